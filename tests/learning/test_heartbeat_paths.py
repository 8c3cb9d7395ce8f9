"""The heartbeat's two paths agree: whatever the common path records (on PostgreSQL the
database function, on SQLite the rule in process) is exactly what the general path records
for the same beat, and a beat the common path declines leaves every row as it was. Both go by
``learning.heartbeat.rule.decide_beat``; ``test_common_beat_sql.py`` checks the function
against the rule in process."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from learning.heartbeat import access, store
from tests.learning.common_beats import STATES, outcome_and_rows, rows, seed_open_session

pytestmark = pytest.mark.django_db

# STATES drawn more often where the common path records (most states decline, for several
# reasons at once): lessons long enough for their cap, a progress row, gaps near 15 s.
MOSTLY_COMMON = {
    **STATES,
    "expected": st.sampled_from([0, 100, 601, 3600, 3600]),
    "gap": st.one_of(st.sampled_from([4, 5, 15, 30, 31]), st.integers(min_value=5, max_value=30)),
    "has_progress": st.sampled_from([True, True, True, False]),
}


def _general_path(user_id):
    """``store.record_general_beat`` called as ``outcome_and_rows`` calls a common path."""

    def record(person_id, lesson_id, expected, tab, now):
        person, lesson = access.partial_person_and_lesson(person_id, user_id, lesson_id, expected)
        return store.record_general_beat(person, lesson, tab, now)

    return record


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(**MOSTLY_COMMON)
@example(  # a minute of a completed lesson, the ledger rows there: the ledger's UPDATE
    expected=3600,
    open_for=100,
    open_micros=0,
    gap=15,
    gap_micros=0,
    credited=50,
    has_progress=True,
    completed=True,
    ledger="this and earlier",
    other_tab="none",
)
@example(  # seconds within a minute, another tab long closed
    expected=601,
    open_for=300,
    open_micros=999_999,
    gap=29,
    gap_micros=1,
    credited=200,
    has_progress=True,
    completed=False,
    ledger="none",
    other_tab="before",
)
def test_the_common_path_records_what_the_general_path_records(
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
    common = outcome_and_rows(store.record_common_beat, person, lesson, expected, now)
    event(f"common path: {common[0][0]}")
    if common[0] == ("general",):
        assert common[1] == rows(person)  # declined: nothing written
        return
    general = outcome_and_rows(_general_path(org.learner.pk), person, lesson, expected, now)
    assert common == general


@pytest.mark.parametrize(
    ("gap", "credited", "outcome"),
    [(2, 0, "too_fast"), (15, 0, "ok"), (15, 50, "general")],  # general: a month's first minute
)
def test_the_common_path_records_refuses_and_declines(org, lesson, gap, credited, outcome):
    """A guard on the generated cases: the common path does take each way."""
    now = seed_open_session(
        org.person,
        lesson,
        open_for=15,
        open_micros=0,
        gap=gap,
        gap_micros=0,
        credited=credited,
        has_progress=True,
        completed=False,
        ledger="none",
        other_tab="none",
    )
    found = outcome_and_rows(store.record_common_beat, org.person, lesson, 3600, now)
    assert found[0][0] == outcome
