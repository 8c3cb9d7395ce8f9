"""Attendance reports: a lecture's attendance table and a person's lecture history, as rows
for the admin pages and as CSV, Excel and PDF downloads.

Who sees what follows the attendance table (``live.admin_views.lecture_attendance``): rows of
``Attendance.objects.visible_to(user)`` (the lecturer their lecture's whole audience, an
officer or an administrator the persons in their scope). A lecturer looking at their own
lecture sees names masked as on the live roster (``attendee_name``), offices, statuses and
minutes only (``shows_case_numbers`` is false): no case numbers, no override reasons (an
officer's "in hospital, sick note seen" is health information), no how or when. Everyone
else sees the full table. A person's history is for staff
who may see the person (``people.services.access_person_for_user``). Each table is built in
a fixed number of queries, whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from lib.downloads import csv_text, xlsx_bytes
from lib.pdf import pdf_document
from live.models import (
    Attendance,
    AttendanceStatus,
    CentreCheckIn,
    Lecture,
    LectureAudience,
    Makeup,
    MakeupKind,
)
from people.models import Person
from people.names import mask_name_for_peers
from people.roles import Role, roles_of

LECTURE_FORMATS = ("csv", "xlsx", "pdf")
PERSON_FORMATS = ("csv", "pdf")


def is_lecturer_view(user, lecture: Lecture) -> bool:
    """The lecturer looking at their own lecture (and not also an officer): they see what the
    live roster shows of the audience (masked names and offices), no case numbers."""
    return lecture.lecturer_id == user.pk and Role.OFFICER not in roles_of(user)


def shows_case_numbers(user, lecture: Lecture) -> bool:
    """The attendance table's rule: a lecturer looking at their own lecture sees names (masked,
    ``attendee_name``), offices, statuses and minutes only; officers, administrators (and a
    lecturer who is also an officer) see case numbers, how each person attended and the
    reasons for changes too."""
    return not is_lecturer_view(user, lecture)


def attendee_name(user, lecture: Lecture, full_name: str) -> str:
    """An attendee's name as ``user`` sees it on ``lecture``'s attendance page and downloads.

    The lecturer sees it as the live roster shows it to everyone who watches it
    (``mask_name_for_peers``: 张三明 → 张**), so the roster and the table give a lecturer the
    same name; officers and administrators see the full name."""
    return mask_name_for_peers(full_name) if is_lecturer_view(user, lecture) else full_name


def _local(value):
    return timezone.localtime(value) if value else None


# --- A lecture's attendance -------------------------------------------------------------------


@dataclass(frozen=True)
class LectureRow:
    name: str
    case_number: str
    office: str
    status: str
    minutes: int
    how: str
    reason: str


def _how(row: Attendance, checked_in: bool, makeup: Makeup | None) -> str:
    parts = []
    online = row.figures.get("online_seconds", row.seconds) if checked_in else row.seconds
    if online:
        parts.append(_("online"))
    if checked_in:
        parts.append(_("at the centre"))
    if makeup is not None and makeup.completed_at is not None:
        parts.append(_("makeup"))
    return " + ".join(str(p) for p in parts) or "—"


def lecture_rows(user, lecture: Lecture) -> list[LectureRow]:
    """The attendance rows of ``lecture`` that ``user`` sees, by office and name; three
    queries."""
    show_numbers = shows_case_numbers(user, lecture)
    rows = list(
        Attendance.objects.visible_to(user)
        .filter(lecture=lecture)
        .select_related("person__office")
        .order_by("person__office__path", "person__full_name", "pk")
    )
    person_ids = [row.person_id for row in rows]
    checked_in = set(
        CentreCheckIn.objects.filter(lecture=lecture, person_id__in=person_ids).values_list(
            "person_id", flat=True
        )
    )
    makeups = {
        m.person_id: m for m in Makeup.objects.filter(lecture=lecture, person_id__in=person_ids)
    }
    return [
        LectureRow(
            name=attendee_name(user, lecture, row.person.full_name),
            case_number=row.person.case_number if show_numbers else "",
            office=row.person.office.name,
            status=row.get_effective_status_display(),
            minutes=row.minutes,
            how=_how(row, row.person_id in checked_in, makeups.get(row.person_id))
            if show_numbers
            else "",
            reason=row.override_reason if row.override_status and show_numbers else "",
        )
        for row in rows
    ]


def lecture_table(rows: list[LectureRow], *, case_numbers: bool) -> list[list[object]]:
    """The full table, or without ``case_numbers`` the lecturer's: name, office, status and
    minutes."""
    header = [_("Name")]
    if case_numbers:
        header.append(_("Case number"))
    header += [_("Office"), _("Status"), _("Minutes present")]
    if case_numbers:
        header += [_("How"), _("Reason for change")]
    table: list[list[object]] = [[str(h) for h in header]]
    for row in rows:
        cells: list[object] = [row.name]
        if case_numbers:
            cells.append(row.case_number)
        cells += [row.office, row.status, row.minutes]
        if case_numbers:
            cells += [row.how, row.reason]
        table.append(cells)
    return table


def _lecture_facts(lecture: Lecture) -> str:
    start, end = _local(lecture.start), _local(lecture.end)
    return " · ".join(
        part
        for part in (
            lecture.speaker,
            f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}",
            str(lecture.get_mode_display()),
            lecture.location,
        )
        if part
    )


def lecture_download(user, lecture: Lecture, fmt: str) -> tuple[bytes | str, int]:
    """The file content of ``lecture``'s attendance in ``fmt`` (csv, xlsx or pdf), and its
    number of rows."""
    rows = lecture_rows(user, lecture)
    table = lecture_table(rows, case_numbers=shows_case_numbers(user, lecture))
    if fmt == "csv":
        return csv_text(table), len(rows)
    if fmt == "xlsx":
        return xlsx_bytes({_("Attendance"): table}), len(rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    labels = [str(label) for label in AttendanceStatus.labels]
    summary = " · ".join(f"{label}: {counts.get(label, 0)}" for label in labels)
    blocks = [
        ("text", _lecture_facts(lecture)),
        ("text", summary),
        ("table", table),
        (
            "small",
            _(
                "Printed %(when)s. Attendance comes from the video server's events and "
                "check-ins at the centre, judged by the attendance policy."
            )
            % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
        ),
    ]
    title = _("Attendance: %(title)s") % {"title": lecture.title}
    return pdf_document(title, blocks), len(rows)


# --- A person's lecture history -------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    lecture: Lecture
    date: str
    title: str
    status: str
    minutes: int | None
    makeup: str


def _makeup_state(makeup: Makeup | None) -> str:
    if makeup is None:
        return "—"
    if makeup.completed_at is None:
        return _("Open, due %(date)s") % {"date": makeup.due_date.isoformat()}
    how = (
        _("watched the recording")
        if makeup.completed_how == MakeupKind.RECORDING
        else _("attended a later lecture")
    )
    return _("Done on %(date)s (%(how)s)") % {
        "date": f"{_local(makeup.completed_at):%Y-%m-%d}",
        "how": how,
    }


def person_history(person: Person, now=None) -> list[HistoryRow]:
    """Every lecture whose fixed audience held ``person``, newest first, with the status,
    minutes and makeup; three queries."""
    now = now or timezone.now()
    audiences = (
        LectureAudience.objects.filter(person=person)
        .select_related("lecture")
        .order_by("-lecture__start", "-lecture_id")
    )
    attendance = {a.lecture_id: a for a in Attendance.objects.filter(person=person)}
    makeups = {m.lecture_id: m for m in Makeup.objects.filter(person=person)}
    rows = []
    for audience in audiences:
        lecture = audience.lecture
        row = attendance.get(lecture.pk)
        if row is not None:
            status, minutes = row.get_effective_status_display(), row.minutes
        elif lecture.has_ended(now):
            status, minutes = _("Not yet computed"), None
        else:
            status, minutes = _("Upcoming"), None
        rows.append(
            HistoryRow(
                lecture=lecture,
                date=f"{_local(lecture.start):%Y-%m-%d %H:%M}",
                title=lecture.title,
                status=str(status),
                minutes=minutes,
                makeup=str(_makeup_state(makeups.get(lecture.pk))),
            )
        )
    return rows


def history_table(rows: list[HistoryRow]) -> list[list[object]]:
    header = [_("Date"), _("Lecture"), _("Status"), _("Minutes present"), _("Makeup")]
    table: list[list[object]] = [[str(h) for h in header]]
    for row in rows:
        minutes = "" if row.minutes is None else row.minutes
        table.append([row.date, row.title, row.status, minutes, row.makeup])
    return table


def person_download(person: Person, fmt: str) -> tuple[bytes | str, int]:
    rows = person_history(person)
    table = history_table(rows)
    if fmt == "csv":
        return csv_text(table), len(rows)
    title = _("Lecture history: %(name)s") % {"name": person.full_name}
    blocks = [
        ("text", f"{person.case_number} · {person.office.name}"),
        ("table", table),
        ("small", _("Printed %(when)s.") % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"}),
    ]
    return pdf_document(title, blocks), len(rows)
