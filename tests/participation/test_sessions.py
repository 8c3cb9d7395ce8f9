from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from participation.crediting import (
    Beat,
    Session,
    StudyLog,
    apply_beat,
    credit,
    credited,
    replay,
    sessions_of,
)
from tests.learning.strategies import BASE, beat, beat_streams, expectations, in_time_order

PROPERTY = settings(max_examples=300, deadline=None)
PLENTY = {1: 10_000, 2: 10_000, 3: 10_000}


def rows(sessions) -> Counter[tuple]:
    """Sessions as comparable rows (instants, not their time zones)."""
    return Counter((s.lesson, s.tab, s.started_at, s.last_beat_at) for s in sessions)


def accepted(beats: list[Beat]) -> list[Beat]:
    """The beats a log keeps: each later than every earlier beat of its (lesson, tab)."""
    last: dict[tuple, datetime] = {}
    kept = []
    for b in beats:
        key = (b["lesson"], b["tab"])
        if key not in last or b["at"] > last[key]:
            last[key] = b["at"]
            kept.append(b)
    return kept


# --- by example -------------------------------------------------------------------------------


def test_a_beat_within_max_gap_extends_the_open_session():
    session, closed = apply_beat(None, beat(1, "a", 0))
    session, closed = apply_beat(session, beat(1, "a", 30))
    assert closed is None
    assert session == Session(1, "a", BASE, BASE + timedelta(seconds=30))


def test_a_gap_over_max_gap_closes_the_session_and_opens_another():
    first, _ = apply_beat(None, beat(1, "a", 0))
    first, _ = apply_beat(first, beat(1, "a", 15))
    second, closed = apply_beat(first, beat(1, "a", 46))
    assert closed == first
    assert second == Session(1, "a", BASE + timedelta(seconds=46), BASE + timedelta(seconds=46))


def test_a_stale_or_duplicate_beat_leaves_the_session_alone():
    session, _ = apply_beat(None, beat(1, "a", 0))
    session, _ = apply_beat(session, beat(1, "a", 15))
    assert apply_beat(session, beat(1, "a", 15)) == (session, None)
    assert apply_beat(session, beat(1, "a", 3)) == (session, None)


def test_it_rejects_a_beat_of_another_tab_or_a_naive_time():
    session, _ = apply_beat(None, beat(1, "a", 0))
    with pytest.raises(ValueError, match="applied to"):
        apply_beat(session, beat(1, "b", 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_beat(session, {"lesson": 1, "tab": "a", "at": datetime(2026, 3, 1)})  # noqa: DTZ001


def test_a_month_of_steady_study_keeps_one_row_per_sitting():
    log = StudyLog()
    for day in range(20):
        for s in range(0, 1441, 15):
            log.record(beat(1, "a", day * 86_400 + s))
            log.record(beat(1, "b", day * 86_400 + s + 7))
    assert len(log.closed) == 2 * 19 and len(log.open) == 2
    assert credited(log, {1: 100_000}) == {1: 20 * 1447}


def test_a_late_beat_that_would_bridge_a_gap_is_ignored():
    log = replay([beat(1, "a", 0), beat(1, "a", 40), beat(1, "a", 20)])
    assert credited(log, PLENTY) == {1: 0}


# --- the incremental path equals credit() -----------------------------------------------------


@PROPERTY
@given(beat_streams(), expectations)
def test_replaying_beats_in_time_order_credits_exactly_what_credit_does(beats, expected):
    log = replay(in_time_order(beats))
    assert rows(log.sessions()) == rows(sessions_of(beats))
    assert credited(log, expected) == credit(beats, expected)


@PROPERTY
@given(beat_streams(), expectations, st.randoms(use_true_random=False))
def test_tabs_may_interleave_in_any_order_as_long_as_each_tab_is_in_order(beats, expected, rnd):
    # Stronger than time order: only each (lesson, tab)'s own beats need to be in order.
    queues: dict[tuple, list[Beat]] = {}
    for b in in_time_order(beats):
        queues.setdefault((b["lesson"], b["tab"]), []).append(b)
    arrival = []
    while queues:
        key = rnd.choice(sorted(queues))
        arrival.append(queues[key].pop(0))
        if not queues[key]:
            del queues[key]
    assert credited(replay(arrival), expected) == credit(beats, expected)


@PROPERTY
@given(beat_streams(), expectations, st.data())
def test_stale_and_duplicate_beats_are_ignored_and_never_increase_credit(beats, expected, data):
    ordered = in_time_order(beats)
    # Re-deliver some beats, possibly shifted back in time, any time after the original.
    arrival = list(ordered)
    for b in data.draw(st.lists(st.sampled_from(ordered), max_size=6)) if ordered else []:
        back = timedelta(seconds=data.draw(st.sampled_from([0, 1, 10, 20, 40])))
        after = arrival.index(b) + 1
        arrival.insert(data.draw(st.integers(after, len(arrival))), {**b, "at": b["at"] - back})
    log = replay(arrival)
    assert credited(log, expected) == credit(accepted(arrival), expected)
    assert credited(log, expected) == credited(replay(ordered), expected)
    assert sum(credited(log, expected).values()) <= sum(credit(arrival, expected).values())
