"""``learning_common_beat`` (the common beat inside PostgreSQL, ``common_beat.sql``)
decides and writes exactly what the Python rule does (``rule.decide_beat`` with the common
path's writes, ``store.record_common_beat_in_process``), on generated sessions: the same
outcome (common, general path, too fast), the same answer and the same rows afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from hypothesis import HealthCheck, example, given, settings

from learning.heartbeat import store
from learning.models import LessonProgress, StudySession
from tests.learning.common_beats import STATES, T0, TAB, outcome_and_rows, seed_open_session

pytestmark = pytest.mark.django_db


def _python_rule(person, lesson, expected, now):
    """The outcome and rows of the Python rule (the reference), then undone."""
    return outcome_and_rows(store.record_common_beat_in_process, person, lesson, expected, now)


def _database_rule(person, lesson, expected, now):
    return outcome_and_rows(store.record_common_beat_in_database, person, lesson, expected, now)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="learning_common_beat exists on PostgreSQL only"
)
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(**STATES)
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
    now = seed_open_session(
        person,
        lesson,
        open_for=open_for,
        open_micros=open_micros,
        gap=gap,
        gap_micros=gap_micros,
        credited=credited,
        has_progress=has_progress,
        completed=completed,
        ledger=ledger,
        other_tab=other_tab,
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
