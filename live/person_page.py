"""What live shows on the staff person page (``people.person_page``): lecture attendance at a
glance, the latest lectures, open makeups, and their events.

Staff who see a person's lecture history (``people.view_person``, as ``live_person_history``)
see it here; lecturers never reach a person page (they see nobody)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from live.models import (
    ATTENDED,
    NEEDS_MAKEUP,
    AttendanceStatus,
    Lecture,
    LectureAudience,
    Makeup,
)
from live.models import Attendance as AttendanceRow
from live.reports import _makeup_state
from people.models import Person, User
from people.person_page import (
    Fact,
    TimelineEntry,
    Tone,
    Visit,
    register_section,
    register_summary_fact,
    register_timeline_source,
)

VIEW_PERMISSION = "people.view_person"
RECENT_LECTURES = 6
OPEN_MAKEUPS = 10
UPCOMING = 3

STATUS_TONE = {
    AttendanceStatus.PRESENT: Tone.GOOD,
    AttendanceStatus.LATE: Tone.WARN,
    AttendanceStatus.LEFT_EARLY: Tone.WARN,
    AttendanceStatus.ABSENT: Tone.BAD,
    AttendanceStatus.EXCUSED: Tone.NEUTRAL,
}


def _open_makeups(person: Person):
    return Makeup.objects.for_person(person).open()


def _attendance_totals(person: Person) -> dict[str, int]:
    return (
        AttendanceRow.objects.for_person(person)
        .with_effective_status()
        .aggregate(
            total=Count("pk"),
            attended=Count("pk", filter=Q(effective__in=ATTENDED)),
            missed=Count("pk", filter=Q(effective__in=NEEDS_MAKEUP)),
            excused=Count("pk", filter=Q(effective=AttendanceStatus.EXCUSED)),
        )
    )


def may_see(person: Person, user: User) -> bool:
    return user.has_perm(VIEW_PERMISSION)


def lecture_facts(visit: Visit) -> list[Fact]:
    if not visit.allows(may_see):
        return []
    person = visit.person
    facts = []
    totals = visit.once(_attendance_totals)
    if totals["total"]:
        facts.append(
            Fact(
                _("Lectures attended"),
                f"{totals['attended']}/{totals['total']}",
                Tone.GOOD
                if totals["attended"] + totals["excused"] == totals["total"]
                else Tone.NEUTRAL,
                reverse("live_person_history", args=[person.pk]),
            )
        )
    today = timezone.localdate()
    counts = _open_makeups(person).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today))
    )
    if counts["open"]:
        tone = Tone.BAD if counts["overdue"] else Tone.WARN
        facts.append(Fact(_("Open makeups"), str(counts["open"]), tone))
    return facts


def lectures_section(visit: Visit) -> dict | None:
    if not visit.allows(may_see):
        return None
    person = visit.person
    now = timezone.now()
    totals = visit.once(_attendance_totals)
    audiences = list(
        LectureAudience.objects.filter(person=person, lecture__start__lte=now)
        .select_related("lecture")
        .order_by("-lecture__start", "-lecture_id")[:RECENT_LECTURES]
    )
    lecture_ids = [a.lecture_id for a in audiences]
    attendance = {
        a.lecture_id: a
        for a in AttendanceRow.objects.filter(person=person, lecture_id__in=lecture_ids)
    }
    makeups = {
        m.lecture_id: m for m in Makeup.objects.filter(person=person, lecture_id__in=lecture_ids)
    }
    recent = []
    for audience in audiences:
        row = attendance.get(audience.lecture_id)
        recent.append(
            {
                "lecture": audience.lecture,
                "status": row.get_effective_status_display() if row else _("Not yet computed"),
                "tone": STATUS_TONE.get(row.effective_status, Tone.NEUTRAL) if row else "",
                "minutes": row.minutes if row else None,
                "makeup": _makeup_state(makeups.get(audience.lecture_id)),
            }
        )
    return {
        "person": person,
        "totals": totals,
        "recent": recent,
        "open_makeups": list(
            _open_makeups(person)
            .select_related("lecture")
            .order_by("due_date", "pk")[:OPEN_MAKEUPS]
        ),
        "upcoming": list(Lecture.objects.for_person(person).upcoming(now)[:UPCOMING]),
        "today": timezone.localdate(),
    }


def lecture_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    if not visit.allows(may_see):
        return []
    person = visit.person
    entries = []
    for row in (
        AttendanceRow.objects.for_person(person)
        .select_related("lecture")
        .only("status", "override_status", "seconds", "lecture__title", "lecture__end")
        .order_by("-lecture__end", "-pk")[:limit]
    ):
        entries.append(
            TimelineEntry(
                row.lecture.end,
                "lectures",
                _("Lecture: %(title)s — %(status)s")
                % {"title": row.lecture.title, "status": row.get_effective_status_display()},
                _("%(minutes)s min present") % {"minutes": row.minutes},
                "",
                STATUS_TONE.get(row.effective_status, Tone.NEUTRAL),
            )
        )
    for makeup in (
        Makeup.objects.for_person(person).select_related("lecture").order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                makeup.created_at,
                "lectures",
                _("Makeup assigned: %(title)s") % {"title": makeup.lecture.title},
                _("due %(due)s") % {"due": f"{makeup.due_date:%Y-%m-%d}"},
                "",
                Tone.WARN,
            )
        )
        if makeup.completed_at:
            entries.append(
                TimelineEntry(
                    makeup.completed_at,
                    "lectures",
                    _("Makeup done: %(title)s") % {"title": makeup.lecture.title},
                    makeup.get_completed_how_display(),
                    "",
                    Tone.GOOD,
                )
            )
    return entries


def register() -> None:
    register_summary_fact("lectures", 30, lecture_facts)
    register_section(
        "lectures",
        30,
        gettext_lazy("Lectures and makeups"),
        lectures_section,
        "live/person_page/lectures.html",
    )
    register_timeline_source("lectures", 20, gettext_lazy("Lectures"), lecture_events)
