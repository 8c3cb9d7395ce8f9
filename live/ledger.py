"""Lectures in the participation ledger (``learning.ParticipationRecord``).

A lecture's entry (source ``lecture``, requirement ``lecture:<pk>``, in the month of the
lecture) follows the effective attendance status; a completed makeup adds an entry with
source ``makeup`` for the same requirement and month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone

from learning.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from learning.participation import LECTURE, Requirement, month_end
from learning.services import month_start
from live.models import ATTENDED, Attendance, AttendanceStatus, Lecture, LectureAudience
from people.models import Person


def lecture_key(lecture: Lecture | int) -> str:
    return f"lecture:{getattr(lecture, 'pk', lecture)}"


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
    entry for an absence. Three queries at most, whatever the audience size. Call inside the
    lecture's row lock."""
    rows = list(rows)
    key, period, title = lecture_key(lecture), ledger_period(lecture), lecture.title[:255]
    existing = {
        record.person_id: record
        for record in ParticipationRecord.objects.filter(
            source=ParticipationSource.LECTURE,
            requirement_key=key,
            person_id__in=[row.person_id for row in rows],
        )
    }
    now = timezone.now()
    created, changed, removed = [], [], []
    for row in rows:
        entry = _entry(row)
        record = existing.get(row.person_id)
        if entry is None:
            if record is not None:
                removed.append(record.pk)
            continue
        status, minutes = entry
        if record is None:
            created.append(
                ParticipationRecord(
                    person_id=row.person_id,
                    period=period,
                    source=ParticipationSource.LECTURE,
                    requirement_key=key,
                    requirement=title,
                    minutes=minutes,
                    status=status,
                )
            )
        elif (record.status, record.minutes, record.period, record.requirement) != (
            status,
            minutes,
            period,
            title,
        ):
            record.status, record.minutes, record.period = status, minutes, period
            record.requirement, record.updated_at = title, now
            changed.append(record)
    if removed:
        ParticipationRecord.objects.filter(pk__in=removed).delete()
    if created:
        ParticipationRecord.objects.bulk_create(created)
    if changed:
        ParticipationRecord.objects.bulk_update(
            changed, ["status", "minutes", "period", "requirement", "updated_at"], batch_size=100
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


# --- Lectures as monthly requirements (``learning.participation``) -------------------------


def lecture_requirements(persons: list, period: dt.date) -> dict[int, list[Requirement]]:
    """Each required lecture starting in ``period``'s month whose audience holds the person:
    the fixed list once resolved, else today's audience rule. One query for the lectures, one
    for the fixed lists, three per lecture whose audience is not fixed yet."""
    from live.services import candidate_audience  # services imports this module

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
