"""Phases of supervision and the review schedule (plans/schedule.py)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from plans.models import Phase
from plans.schedule import add_months, next_phase_change, next_review, phase_for

START = dt.date(2026, 1, 1)
END = dt.date(2026, 12, 31)
ORDER = [Phase.INITIAL, Phase.MIDDLE, Phase.FINAL]


def test_a_one_year_sentence_has_ninety_days_at_each_end():
    assert phase_for(START, END, START) == Phase.INITIAL
    assert phase_for(START, END, dt.date(2026, 3, 31)) == Phase.INITIAL
    assert phase_for(START, END, dt.date(2026, 4, 1)) == Phase.MIDDLE
    assert phase_for(START, END, dt.date(2026, 10, 1)) == Phase.MIDDLE
    assert phase_for(START, END, dt.date(2026, 10, 2)) == Phase.FINAL
    assert phase_for(START, END, END) == Phase.FINAL


def test_a_short_sentence_is_split_in_thirds():
    end = START + dt.timedelta(days=90)
    assert phase_for(START, end, START + dt.timedelta(days=29)) == Phase.INITIAL
    assert phase_for(START, end, START + dt.timedelta(days=30)) == Phase.MIDDLE
    assert phase_for(START, end, START + dt.timedelta(days=60)) == Phase.FINAL


def test_add_months_clips_to_the_end_of_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert add_months(dt.date(2026, 3, 15), -3) == dt.date(2025, 12, 15)


def test_reviews_fall_every_three_months_or_earlier_at_a_phase_change():
    assert next_review(START, END, dt.date(2026, 1, 10)) == (dt.date(2026, 4, 1), "phase_change")
    assert next_review(START, END, dt.date(2026, 4, 10)) == (dt.date(2026, 7, 10), "scheduled")
    assert next_review(START, END, dt.date(2026, 8, 1)) == (dt.date(2026, 10, 2), "phase_change")
    assert next_review(START, END, dt.date(2026, 11, 1)) == (dt.date(2027, 2, 1), "scheduled")


dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1))


@given(start=dates, length=st.integers(0, 3000), a=st.integers(0, 3000), b=st.integers(0, 3000))
def test_phases_never_go_backwards(start, length, a, b):
    end = start + dt.timedelta(days=length)
    first, second = sorted((a, b))
    earlier = phase_for(start, end, start + dt.timedelta(days=first))
    later = phase_for(start, end, start + dt.timedelta(days=second))
    assert ORDER.index(later) >= ORDER.index(earlier)


@given(start=dates, length=st.integers(0, 3000), offset=st.integers(-30, 3000))
def test_the_next_review_is_within_three_months_and_at_any_phase_change(start, length, offset):
    end = start + dt.timedelta(days=length)
    after = start + dt.timedelta(days=offset)
    day, reason = next_review(start, end, after)
    assert after < day <= add_months(after, 3)
    change = next_phase_change(start, end, after)
    if change is not None and change <= add_months(after, 3):
        assert (day, reason) == (change, "phase_change")
    # nothing changes phase between the two reviews without a review at the change
    assert phase_for(start, end, day - dt.timedelta(days=1)) == phase_for(start, end, after) or (
        reason == "phase_change"
    )
