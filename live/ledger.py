"""Lectures in the participation ledger (``participation.ParticipationRecord``).

A lecture's entry (source ``lecture``, requirement ``lecture:<pk>``, in the month of the
lecture) follows the effective attendance status; a completed makeup adds an entry with
source ``makeup`` for the same requirement and month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Case, CharField, DateField, F, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from lib import bulk
from lib.months import month_start
from live.audience import candidate_audience
from live.models import ATTENDED, Attendance, AttendanceStatus, Lecture, LectureAudience
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from participation.requirements import LECTURE, Requirement, RequirementRows, month_end
from people.models import Person


def lecture_key(lecture: Lecture | int) -> str:
    return f"lecture:{getattr(lecture, 'pk', lecture)}"


def lecture_titles(ids: list[int]) -> dict[int, str]:
    return dict(Lecture.objects.filter(pk__in=ids).values_list("pk", "title"))


def ledger_period(lecture: Lecture) -> dt.date:
    return month_start(timezone.localdate(lecture.start))


def _entry(row: Attendance) -> tuple[str, int] | None:
    """(ledger status, minutes) for an attendance row's effective status; None: no entry."""
    status = row.effective_status
    if status in ATTENDED:
        return ParticipationStatus.COMPLETED, row.minutes
    if status == AttendanceStatus.LEFT_EARLY:
        return ParticipationStatus.IN_PROGRESS, row.minutes
    if status == AttendanceStatus.EXCUSED:
        return ParticipationStatus.EXCUSED, 0
    return None


def sync_lecture_entries(lecture: Lecture, rows: Iterable[Attendance]) -> None:
    """The lecture's ledger entries follow ``rows``' effective statuses: attended (completed,
    with the minutes present), left early (in progress, minutes present), excused, or no
    entry for an absence. Four queries at most, whatever the audience size, each set-based
    (``lib.bulk``). Call inside the lecture's row lock."""
    rows = list(rows)
    key, period, title = lecture_key(lecture), ledger_period(lecture), lecture.title[:255]
    persons = {row.person_id for row in rows}
    # the lecture's entries (at most one per audience member), narrowed here: a list of a
    # thousand ids in the query would cost more than the rows it leaves out
    existing = {
        person_id: (pk, current)
        for pk, person_id, *current in ParticipationRecord.objects.filter(
            source=ParticipationSource.LECTURE, requirement_key=key
        ).values_list("pk", "person_id", "status", "minutes", "period", "requirement")
        if person_id in persons
    }
    now = timezone.now()
    created, changed, removed = [], [], []
    for row in rows:
        entry = _entry(row)
        record = existing.get(row.person_id)
        if entry is None:
            if record is not None:
                removed.append(record[0])
            continue
        status, minutes = entry
        if record is None:
            created.append(
                (row.person_id, period, ParticipationSource.LECTURE, key, title, minutes, status)
            )
        elif record[1] != [status, minutes, period, title]:
            changed.append((record[0], status, minutes, period, title, now))
    if removed:
        ParticipationRecord.objects.filter(pk__in=removed).delete()
    bulk.insert_rows(
        ParticipationRecord,
        ["person", "period", "source", "requirement_key", "requirement", "minutes", "status"],
        created,
    )
    bulk.update_rows(
        ParticipationRecord, ["status", "minutes", "period", "requirement", "updated_at"], changed
    )


def record_makeup(lecture: Lecture, person_id: int, minutes: int) -> None:
    """The missed lecture's participation, restored by a completed makeup."""
    ParticipationRecord.objects.update_or_create(
        person_id=person_id,
        source=ParticipationSource.MAKEUP,
        requirement_key=lecture_key(lecture),
        period=ledger_period(lecture),
        defaults={
            "minutes": minutes,
            "status": ParticipationStatus.COMPLETED,
            "requirement": lecture.title[:255],
        },
    )


def remove_makeup(lecture: Lecture | int, person_id: int) -> None:
    ParticipationRecord.objects.filter(
        person_id=person_id,
        source=ParticipationSource.MAKEUP,
        requirement_key=lecture_key(lecture),
    ).delete()


# --- Lectures as monthly requirements (``participation.requirements``) -------------------------


def lecture_requirements(persons: list, period: dt.date) -> dict[int, list[Requirement]]:
    """Each required lecture starting in ``period``'s month whose audience holds the person:
    the fixed list once resolved, else today's audience rule. One query for the lectures, one
    for the fixed lists, three per lecture whose audience is not fixed yet."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(month_end(period) + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    lectures = {
        lecture.pk: lecture
        for lecture in Lecture.objects.filter(required=True, start__gte=start, start__lt=end).only(
            "pk", "title", "start", "audience_resolved_at"
        )
    }
    if not lectures or not persons:
        return {}
    ids = [p.pk for p in persons]
    scope = ids if len(ids) < 500 else Person.objects.filter(pk__in=ids).values("pk")
    pairs = list(
        LectureAudience.objects.filter(
            lecture_id__in=[pk for pk, lec in lectures.items() if lec.audience_resolved_at],
            person_id__in=scope,
        ).values_list("lecture_id", "person_id")
    )
    for lecture in lectures.values():
        if lecture.audience_resolved_at is None:
            members = candidate_audience(lecture).filter(pk__in=scope).values_list("pk", flat=True)
            pairs.extend((lecture.pk, person_id) for person_id in members)
    out: dict[int, list[Requirement]] = defaultdict(list)
    for lecture_id, person_id in pairs:
        lecture = lectures[lecture_id]
        out[person_id].append(
            Requirement(
                lecture_key(lecture),
                LECTURE,
                lecture.title,
                timezone.localdate(lecture.start),
            )
        )
    return out


def lecture_requirement_rows(period: dt.date) -> RequirementRows:
    """``lecture_requirements`` as SQL rows for everyone at once (``participation.month_sql``): the
    fixed audiences of the month's required lectures, and today's audience rule of those not
    fixed yet. One query for the lectures, two per lecture whose audience is not fixed."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(month_end(period) + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    lectures = list(
        Lecture.objects.filter(required=True, start__gte=start, start__lt=end).only(
            "pk", "title", "start", "audience_resolved_at"
        )
    )
    titles = {lecture_key(lecture): lecture.title for lecture in lectures}
    resolved = [lecture for lecture in lectures if lecture.audience_resolved_at]
    querysets = []
    if resolved:
        due = Case(
            *[
                When(lecture_id=lecture.pk, then=Value(timezone.localdate(lecture.start)))
                for lecture in resolved
            ],
            output_field=DateField(),
        )
        querysets.append(
            LectureAudience.objects.filter(lecture_id__in=[lecture.pk for lecture in resolved])
            .annotate(
                r_person=F("person_id"),
                r_key=Concat(Value(f"{LECTURE}:"), Cast("lecture_id", CharField())),
                r_kind=Value(LECTURE),
                r_due=due,
            )
            .values("r_person", "r_key", "r_kind", "r_due")
        )
    for lecture in lectures:
        if lecture.audience_resolved_at is None:
            querysets.append(
                candidate_audience(lecture)
                .order_by()
                .annotate(
                    r_person=F("pk"),
                    r_key=Value(lecture_key(lecture)),
                    r_kind=Value(LECTURE),
                    r_due=Value(timezone.localdate(lecture.start), output_field=DateField()),
                )
                .values("r_person", "r_key", "r_kind", "r_due")
            )
    return RequirementRows(tuple(querysets), lambda keys: {k: titles[k] for k in keys})
