from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from participation.crediting import CAP_FACTOR, MAX_GAP, MAX_GAP_DELTA, Beat, credit
from tests.learning.strategies import (
    BASE,
    LESSONS,
    UNKNOWN_LESSON,
    beat,
    beat_streams,
    expectations,
)

PROPERTY = settings(max_examples=300, deadline=None)
PLENTY = {1: 10_000, 2: 10_000, 3: 10_000}


def every_15s(lesson: int, tab: str, start: int, stop: int) -> list[Beat]:
    """Beats at start, start + 15, ... up to and including stop."""
    return [beat(lesson, tab, s) for s in range(start, stop + 1, 15)]


def some_of(
    beats: list[Beat], data: st.DataObject, *, only_lesson: int | None = None
) -> list[Beat]:
    """A random subset of ``beats``; with ``only_lesson``, only that lesson's beats may go."""
    keep = data.draw(st.lists(st.booleans(), min_size=len(beats), max_size=len(beats)))
    return [
        b
        for b, k in zip(beats, keep, strict=True)
        if k or (only_lesson is not None and b["lesson"] != only_lesson)
    ]


def seconds_span(beats: list[Beat]) -> float:
    if not beats:
        return 0
    times = [b["at"] for b in beats]
    return (max(times) - min(times)).total_seconds()


# --- the rules, by example -------------------------------------------------------------------


def test_it_credits_a_gap_of_exactly_max_gap():
    assert MAX_GAP == 30
    assert credit([beat(1, "a", 0), beat(1, "a", 30)], PLENTY) == {1: 30}


def test_it_credits_nothing_for_a_gap_over_max_gap():
    assert credit([beat(1, "a", 0), beat(1, "a", 31)], PLENTY) == {1: 0}
    assert credit([beat(1, "a", 0), beat(1, "a", 30.000001)], PLENTY) == {1: 0}


def test_it_credits_the_runs_either_side_of_a_long_gap():
    beats = [*every_15s(1, "a", 0, 60), *every_15s(1, "a", 100, 130)]
    assert credit(beats, PLENTY) == {1: 90}


def test_it_credits_two_overlapping_tabs_of_one_lesson_once():
    beats = every_15s(1, "a", 0, 60) + every_15s(1, "b", 30, 90)
    assert credit(beats, PLENTY) == {1: 90}


def test_two_devices_studying_the_same_time_are_credited_once():
    beats = every_15s(1, "phone", 0, 600) + every_15s(1, "laptop", 0, 600)
    assert credit(beats, PLENTY) == {1: 600}


def test_the_lesson_opened_first_keeps_overlapping_time():
    beats = every_15s(2, "a", 0, 60) + every_15s(1, "b", 30, 120)
    assert credit(beats, PLENTY) == {2: 60, 1: 60}


def test_a_tie_in_start_goes_to_the_lower_lesson_id():
    beats = every_15s(2, "a", 0, 60) + every_15s(1, "b", 0, 60)
    assert credit(beats, PLENTY) == {1: 60, 2: 0}


def test_it_caps_a_lesson_at_expected_times_cap_factor():
    assert CAP_FACTOR == 1.5
    beats = every_15s(1, "a", 0, 3600)
    assert credit(beats, {1: 600}) == {1: 900}
    assert credit(beats, {1: 15}) == {1: 22}  # floor(22.5)


def test_a_capped_lesson_leaves_overlapping_time_to_the_other_lesson():
    # Lesson 1 started first but only needs 15 s; lesson 2 is credited the time they share.
    beats = every_15s(1, "a", 0, 1200) + every_15s(2, "b", 15, 300)
    assert credit(beats, {1: 10, 2: 1000}) == {1: 15, 2: 285}


def test_a_lesson_missing_from_expected_gets_nothing_and_does_not_block_others():
    beats = every_15s(UNKNOWN_LESSON, "a", 0, 300) + every_15s(1, "b", 60, 120)
    assert credit(beats, {1: 1000}) == {UNKNOWN_LESSON: 0, 1: 60}


def test_beats_faster_than_every_5s_add_nothing():
    fast = [beat(1, "a", s / 2) for s in range(0, 241)]
    assert credit(fast, PLENTY) == credit(every_15s(1, "a", 0, 120), PLENTY) == {1: 120}


def test_it_credits_only_whole_seconds_inside_a_session():
    assert credit([beat(1, "a", 0.5), beat(1, "a", 30.5)], PLENTY) == {1: 29}
    assert credit([beat(1, "a", 0.9), beat(1, "a", 1.1)], PLENTY) == {1: 0}


def test_duplicated_beats_count_once_even_in_another_time_zone():
    beats = [beat(1, "a", 0), beat(1, "a", 15), beat(1, "a", 15, shanghai=True)]
    assert credit(beats, PLENTY) == {1: 15}


def test_it_rejects_naive_datetimes():
    naive = {"lesson": 1, "tab": "a", "at": datetime(2026, 3, 1, 8, 0)}  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        credit([beat(1, "a", 0), naive], PLENTY)


def test_no_beats_no_credit():
    assert credit([], PLENTY) == {}


def test_dropping_a_beat_of_one_lesson_can_raise_anothers_credit():
    # Why per-lesson monotonicity is impossible under "overlap credited once": with both
    # lessons covering the same 15 s, A + B = 15, but dropping either one's beat gives the
    # other all 15 s, so each lesson would need 15 s to start with.
    a, b = [beat(1, "a", 0), beat(1, "a", 15)], [beat(2, "b", 0), beat(2, "b", 15)]
    assert credit(a + b, PLENTY) == {1: 15, 2: 0}
    assert credit(a[:1] + b, PLENTY) == {1: 0, 2: 15}
    assert credit(a + b[:1], PLENTY) == {1: 15, 2: 0}


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(beat_streams(), expectations, st.randoms(use_true_random=False))
def test_shuffling_or_duplicating_beats_never_changes_the_result(beats, expected, rnd):
    shuffled = beats + rnd.sample(beats, k=rnd.randint(0, len(beats)))
    rnd.shuffle(shuffled)
    assert credit(shuffled, expected) == credit(beats, expected)


@PROPERTY
@given(beat_streams(), expectations, st.data())
def test_dropping_beats_never_increases_the_total(beats, expected, data):
    kept = some_of(beats, data)
    assert sum(credit(kept, expected).values()) <= sum(credit(beats, expected).values())


@PROPERTY
@given(beat_streams(), expectations, st.sampled_from(LESSONS), st.data())
def test_dropping_a_lessons_beats_never_increases_its_credit(beats, expected, lesson, data):
    kept = some_of(beats, data, only_lesson=lesson)
    assert credit(kept, expected).get(lesson, 0) <= credit(beats, expected).get(lesson, 0)


@PROPERTY
@given(beat_streams(), expectations, st.data())
def test_dropping_beats_never_increases_any_lesson_when_lessons_do_not_overlap(
    beats, expected, data
):
    # Lesson k studied only in hour k (a stream spans under 40 min): nothing to share.
    beats = [{**b, "at": b["at"] + timedelta(hours=b["lesson"])} for b in beats]
    before, after = credit(beats, expected), credit(some_of(beats, data), expected)
    assert all(after[lesson] <= before[lesson] for lesson in after)


@PROPERTY
@given(beat_streams(), expectations)
def test_other_lessons_never_increase_a_lessons_credit(beats, expected):
    together = credit(beats, expected)
    for lesson in together:
        alone = credit([b for b in beats if b["lesson"] == lesson], expected)
        assert together[lesson] <= alone[lesson]


@PROPERTY
@given(beat_streams(), expectations)
def test_total_never_exceeds_the_wall_time_the_beats_span(beats, expected):
    assert sum(credit(beats, expected).values()) <= seconds_span(beats)
    assert sum(credit(beats, PLENTY).values()) <= seconds_span(beats)


@PROPERTY
@given(beat_streams(), expectations)
def test_caps_are_respected_and_unknown_lessons_get_nothing(beats, expected):
    result = credit(beats, expected)
    assert set(result) == {b["lesson"] for b in beats}
    for lesson, seconds in result.items():
        assert isinstance(seconds, int)
        assert 0 <= seconds <= expected.get(lesson, 0) * CAP_FACTOR


@PROPERTY
@given(beat_streams(), expectations, st.data())
def test_extra_beats_inside_a_session_never_change_credit(beats, expected, data):
    pairs = [
        (key, earlier, later)
        for key, group in itertools.groupby(
            sorted(beats, key=lambda b: (b["lesson"], b["tab"], b["at"])),
            key=lambda b: (b["lesson"], b["tab"]),
        )
        for earlier, later in itertools.pairwise(b["at"] for b in group)
        if later - earlier <= MAX_GAP_DELTA
    ]
    where = data.draw(
        st.lists(st.none() | st.floats(0, 1), min_size=len(pairs), max_size=len(pairs))
    )
    extra = [
        {"lesson": key[0], "tab": key[1], "at": earlier + (later - earlier) * fraction}
        for (key, earlier, later), fraction in zip(pairs, where, strict=True)
        if fraction is not None
    ]
    assert credit(beats + extra, expected) == credit(beats, expected)


def _oracle(beats: list[Beat], expected: dict[int, int]) -> dict[int, int]:
    """The rule written out second by second, with the maximum computed by min-cut brute force.

    The most seconds lessons T can be credited together is min over U <= T of
    cap(U) + |seconds covered by lessons in T - U|; lessons, in order of first covered
    second (ties by id), each get the increase in that maximum they bring.
    """
    covered: dict[int, set[int]] = {b["lesson"]: set() for b in beats}
    by_tab: dict[tuple[int, str], set[int]] = {}
    for b in beats:
        by_tab.setdefault((b["lesson"], b["tab"]), set()).add(
            round((b["at"] - BASE).total_seconds())
        )
    for (lesson, _tab), times in by_tab.items():
        for earlier, later in itertools.pairwise(sorted(times)):
            if later - earlier <= MAX_GAP:
                covered[lesson].update(range(earlier, later))
    cap = {lesson: math.floor(expected.get(lesson, 0) * CAP_FACTOR) for lesson in covered}

    def most(lessons: tuple[int, ...]) -> int:
        return min(
            sum(cap[u] for u in cut)
            + len(set().union(*(covered[x] for x in lessons if x not in cut)))
            for size in range(len(lessons) + 1)
            for cut in itertools.combinations(lessons, size)
        )

    order = sorted((x for x in covered if covered[x]), key=lambda x: (min(covered[x]), x))
    result = dict.fromkeys(covered, 0)
    for k, lesson in enumerate(order):
        result[lesson] = most(tuple(order[: k + 1])) - most(tuple(order[:k]))
    return result


@PROPERTY
@given(beat_streams(whole_seconds=True, max_runs=5), expectations)
def test_it_matches_the_rule_computed_second_by_second(beats, expected):
    assert credit(beats, expected) == _oracle(beats, expected)


def test_oracle_agrees_on_a_hand_checked_case():
    beats = every_15s(1, "a", 0, 1200) + every_15s(2, "b", 15, 300)
    assert _oracle(beats, {1: 10, 2: 1000}) == {1: 15, 2: 285}


def test_a_busy_month_is_credited_exactly():
    rnd = random.Random(7)
    beats = []
    for day in range(20):
        start = day * 86_400 + rnd.randint(0, 3600)
        beats += every_15s(1 + day % 3, "a", start, start + 1440)
        beats += every_15s(1 + (day + 1) % 3, "b", start + 600, start + 2040)
    result = credit(beats, PLENTY)
    # Each day: 1440 s on tab a, then tab b's lesson adds its 600 s beyond tab a.
    assert sum(result.values()) == 20 * 2040
