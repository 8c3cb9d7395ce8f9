"""``learning_common_beat`` (the common beat inside PostgreSQL, learning migration 0007)
decides and writes exactly what the Python rule ``services._common_beat_writes`` does, on
generated sessions: the same outcome (common, general path, too fast), the same answer and
the same rows afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from learning import services
from learning.models import LessonProgress, StudySession
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 2, 0, 0, 123_456, tzinfo=dt.UTC)
TAB = "tab-rule"


class _Undo(Exception):
    pass


def _rows(person, lesson) -> tuple:
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


def _python_rule(person, lesson, expected, now):
    """The outcome and rows of the Python rule (the reference), then undone."""
    outcome = None
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    services._OPEN_SESSION_WITH_LEDGER_SQL,
                    services.open_session_with_ledger_params(person.pk, lesson.pk, TAB, now),
                )
                try:
                    writes, answer = services._common_beat_writes(
                        cursor.fetchone(), person.pk, lesson.pk, expected, TAB, now
                    )
                except services._GeneralPath:
                    outcome = ("general",)
                except services.BeatRejected as rejected:
                    outcome = (rejected.reason,)
                else:
                    for sql, params in writes:
                        cursor.execute(sql, params)
                    outcome = ("ok", answer.credited_seconds, answer.completed_at)
            rows = _rows(person, lesson)
            raise _Undo
    except _Undo:
        pass
    return outcome, rows


def _database_rule(person, lesson, expected, now):
    outcome = None
    try:
        with transaction.atomic():
            try:
                answer = services._record_common_beat_in_database(
                    person.pk, lesson.pk, expected, TAB, now
                )
            except services.BeatRejected as rejected:
                outcome = (rejected.reason,)
            else:
                outcome = (
                    ("general",)
                    if answer is None
                    else ("ok", answer.credited_seconds, answer.completed_at)
                )
            rows = _rows(person, lesson)
            raise _Undo
    except _Undo:
        pass
    return outcome, rows


micros = st.integers(min_value=0, max_value=999_999)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="learning_common_beat exists on PostgreSQL only"
)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    expected=st.sampled_from([0, 60, 100, 601, 3600]),
    open_for=st.integers(min_value=0, max_value=900),
    open_micros=micros,
    gap=st.integers(min_value=0, max_value=40),
    gap_micros=micros,
    credited=st.integers(min_value=0, max_value=1500),
    has_progress=st.booleans(),
    completed=st.booleans(),
    ledger=st.sampled_from(["none", "this month", "this and earlier"]),
    other_tab=st.sampled_from(["none", "overlapping", "before"]),
)
@example(  # a minute completed, the ledger row there: the UPDATE of the ledger
    expected=3600,
    open_for=100,
    open_micros=0,
    gap=15,
    gap_micros=0,
    credited=50,
    has_progress=True,
    completed=False,
    ledger="this and earlier",
    other_tab="none",
)
def test_the_database_rule_matches_the_python_rule(
    org,
    lesson,
    expected,
    open_for,
    open_micros,
    gap,
    gap_micros,
    credited,
    has_progress,
    completed,
    ledger,
    other_tab,
):
    person = org.person
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
    assert _database_rule(person, lesson, expected, now) == _python_rule(
        person, lesson, expected, now
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_rule_answers_all_three_outcomes(org, lesson):
    """A guard on the generated cases: the rule does take each way."""
    person = org.person
    StudySession.objects.create(
        person=person, lesson=lesson, tab=TAB, started_at=T0, last_beat_at=T0
    )
    LessonProgress.objects.create(person=person, lesson=lesson, credited_seconds=0)
    at = T0 + dt.timedelta(seconds=2)
    assert _database_rule(person, lesson, 3600, at)[0] == ("too_fast",)
    at = T0 + dt.timedelta(seconds=15)
    assert _database_rule(person, lesson, 3600, at)[0] == ("general",)  # first whole second
    StudySession.objects.update(last_beat_at=T0 + dt.timedelta(seconds=15))
    LessonProgress.objects.update(credited_seconds=14)
    outcome = _database_rule(person, lesson, 3600, T0 + dt.timedelta(seconds=30))[0]
    assert outcome == ("ok", 29, None)
