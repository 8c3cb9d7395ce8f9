"""A tab's open session in a generated state, and what a way of recording its next beat
answers and leaves: shared by the tests that check the heartbeat's paths against each other
(``test_common_beat_sql.py``, ``test_heartbeat_paths.py``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from hypothesis import strategies as st

from learning.heartbeat.rule import BeatRejected
from learning.models import LessonProgress, StudySession
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus

T0 = dt.datetime(2026, 3, 10, 2, 0, 0, 123_456, tzinfo=dt.UTC)
TAB = "tab-rule"

micros = st.integers(min_value=0, max_value=999_999)

# The state ``seed_open_session`` builds, as hypothesis draws it (``@given(**STATES)``).
STATES = {
    "expected": st.sampled_from([0, 60, 100, 601, 3600]),
    "open_for": st.integers(min_value=0, max_value=900),
    "open_micros": micros,
    "gap": st.integers(min_value=0, max_value=40),
    "gap_micros": micros,
    "credited": st.integers(min_value=0, max_value=1500),
    "has_progress": st.booleans(),
    "completed": st.booleans(),
    "ledger": st.sampled_from(["none", "this month", "this and earlier"]),
    "other_tab": st.sampled_from(["none", "overlapping", "before"]),
}


class _Undo(Exception):
    pass


def rows(person) -> tuple:
    """The person's session, progress and ledger rows, as a beat may change them."""
    return (
        sorted(
            StudySession.objects.filter(person=person).values_list(
                "tab", "started_at", "last_beat_at", "span_seconds", "is_open"
            )
        ),
        sorted(
            LessonProgress.objects.filter(person=person).values_list(
                "lesson_id", "credited_seconds", "quiz_passed", "completed_at"
            )
        ),
        sorted(
            ParticipationRecord.objects.filter(person=person).values_list(
                "period", "requirement_key", "minutes", "status"
            )
        ),
    )


def outcome_and_rows(record, person, lesson, expected, now) -> tuple:
    """What ``record(person id, lesson id, expected seconds, tab, now)`` answers (``("ok",
    credited, completed at)``, ``("general",)`` for None, or the reason it was refused) and
    the rows it leaves; then undone."""
    outcome = None
    try:
        with transaction.atomic():
            try:
                answer = record(person.pk, lesson.pk, expected, TAB, now)
            except BeatRejected as rejected:
                outcome = (rejected.reason,)
            else:
                outcome = (
                    ("general",)
                    if answer is None
                    else ("ok", answer.credited_seconds, answer.completed_at)
                )
            after = rows(person)
            raise _Undo
    except _Undo:
        pass
    return outcome, after


def seed_open_session(
    person,
    lesson,
    *,
    open_for: int,
    open_micros: int,
    gap: int,
    gap_micros: int,
    credited: int,
    has_progress: bool,
    completed: bool,
    ledger: str,
    other_tab: str,
) -> dt.datetime:
    """Replace the person's rows with ``TAB``'s open session on ``lesson`` (since ``T0``,
    ``open_for`` s long), another tab's session, the lesson's progress and the ledger as told;
    return the time of the next beat, ``gap`` s after the session's last."""
    StudySession.objects.filter(person=person).delete()
    LessonProgress.objects.filter(person=person).delete()
    ParticipationRecord.objects.filter(person=person).delete()
    last = T0 + dt.timedelta(seconds=open_for, microseconds=open_micros)
    now = last + dt.timedelta(seconds=gap, microseconds=gap_micros)
    StudySession.objects.create(
        person=person, lesson=lesson, tab=TAB, started_at=T0, last_beat_at=last
    )
    if other_tab != "none":
        StudySession.objects.create(
            person=person,
            lesson=lesson,
            tab="tab-other",
            started_at=T0 - dt.timedelta(seconds=30),
            last_beat_at=last + dt.timedelta(seconds=3)
            if other_tab == "overlapping"
            else T0 - dt.timedelta(seconds=10),
        )
    if has_progress:
        LessonProgress.objects.create(
            person=person,
            lesson=lesson,
            credited_seconds=credited,
            completed_at=T0 if completed else None,
        )
    key = f"lesson:{lesson.pk}"
    if ledger != "none":
        ParticipationRecord.objects.create(
            person=person,
            period=dt.date(2026, 3, 1),
            source=ParticipationSource.LESSON,
            requirement_key=key,
            minutes=credited // 60,
            status=ParticipationStatus.IN_PROGRESS,
        )
    if ledger == "this and earlier":
        ParticipationRecord.objects.create(
            person=person,
            period=dt.date(2026, 2, 1),
            source=ParticipationSource.LESSON,
            requirement_key=key,
            minutes=1,
            status=ParticipationStatus.IN_PROGRESS,
        )
    return now
