"""The policy format, the spot-check draw and the result rule (pure, with hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollcall import decide as d
from rollcall.policy import DEFAULT_RULES, PolicyInvalid, parse_rules
from rollcall.sampling import Candidate, draw, month_of, slots, week_of

TZ = ZoneInfo("Asia/Shanghai")
RULES = parse_rules(DEFAULT_RULES)
MONDAY = dt.date(2026, 12, 7)


# --- Policy ------------------------------------------------------------------------------------


def test_the_shipped_defaults_validate_and_say_what_the_issue_asks():
    assert RULES.answer_within_minutes == 5
    assert RULES.spot_checks["strict"].count == 2 and RULES.spot_checks["strict"].per == "week"
    assert RULES.spot_checks["normal"].count == 1 and RULES.spot_checks["normal"].per == "week"
    assert RULES.spot_checks["lenient"].count == 2
    assert RULES.spot_checks["lenient"].per == "month"
    assert RULES.min_gap_hours == 24
    assert parse_rules(RULES.to_json()) == RULES


@pytest.mark.parametrize(
    "change, where",
    [
        ({"answer_within_minutes": 0}, "answer_within_minutes"),
        ({"late_within_minutes": 2}, "late_within_minutes"),
        ({"surprise": 1}, "surprise"),
        ({"spot_checks": {"strict": {"count": 2, "per": "week"}}}, "spot_checks"),
        ({"working_hours": {"start": "17:00", "end": "09:00", "weekdays": [1]}}, "end"),
        ({"working_hours": {"start": "09:00", "end": "17:00", "weekdays": [0]}}, "weekdays"),
        ({"failed_confirmations": ["seen"]}, "failed_confirmations"),
    ],
)
def test_bad_rules_are_refused_with_their_place(change, where):
    data = copy.deepcopy(DEFAULT_RULES)
    data.update(change)
    with pytest.raises(PolicyInvalid, match=where):
        parse_rules(data)


def test_rules_that_are_not_an_object_are_refused():
    with pytest.raises(PolicyInvalid):
        parse_rules([1, 2])


# --- Sampling ----------------------------------------------------------------------------------

candidates = st.lists(
    st.builds(
        Candidate,
        person_id=st.integers(1, 10_000),
        category=st.sampled_from(["strict", "normal", "lenient"]),
    ),
    max_size=12,
    unique_by=lambda c: c.person_id,
)
days = st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31))


def _check_draw(result, chosen, period, rules):
    by_person: dict[int, list[dt.datetime]] = {}
    for item in result:
        by_person.setdefault(item.person_id, []).append(item.at)
        local = item.at.astimezone(TZ)
        assert period.start <= local.date() < period.end
        assert local.isoweekday() in rules.working_hours.weekdays
        assert rules.working_hours.start <= local.time() < rules.working_hours.end
        assert local.second == 0 and local.microsecond == 0
    gap = dt.timedelta(hours=rules.min_gap_hours)
    for times in by_person.values():
        times.sort()
        assert all(b - a >= gap for a, b in zip(times, times[1:], strict=False))
    for candidate in chosen:
        rule = rules.spot_checks[candidate.category]
        got = len(by_person.get(candidate.person_id, []))
        if rule.per != period.kind:
            assert got == 0
        else:
            assert got <= rule.count
    return by_person


@settings(max_examples=60, deadline=None)
@given(candidates, days, st.text(min_size=1, max_size=8))
def test_a_week_draw_keeps_every_rule_and_gives_the_full_count(chosen, day, seed):
    period = week_of(day)
    result = draw(chosen, period, RULES, seed, tz=TZ)
    by_person = _check_draw(result, chosen, period, RULES)
    for candidate in chosen:
        rule = RULES.spot_checks[candidate.category]
        if rule.per == "week":  # 1 or 2 in five working days always fit 24 h apart
            assert len(by_person[candidate.person_id]) == rule.count
    assert draw(chosen, period, RULES, seed, tz=TZ) == result  # deterministic


@settings(max_examples=40, deadline=None)
@given(candidates, days, st.text(min_size=1, max_size=8))
def test_a_month_draw_gives_lenient_persons_their_checks(chosen, day, seed):
    period = month_of(day)
    result = draw(chosen, period, RULES, seed, tz=TZ)
    by_person = _check_draw(result, chosen, period, RULES)
    for candidate in chosen:
        if candidate.category == "lenient":
            assert len(by_person[candidate.person_id]) == 2


@settings(max_examples=40, deadline=None)
@given(candidates, st.integers(1, 10_000), days)
def test_adding_a_person_changes_nobody_elses_times(chosen, extra_id, day):
    period = week_of(day)
    base = draw(chosen, period, RULES, "seed", tz=TZ)
    more = [*chosen, Candidate(extra_id, "strict")]
    if extra_id in {c.person_id for c in chosen}:
        return
    bigger = draw(more, period, RULES, "seed", tz=TZ)
    assert [x for x in bigger if x.person_id != extra_id] == base


@settings(max_examples=40, deadline=None)
@given(days, st.integers(0, 5 * 8 * 60 - 1))
def test_busy_times_and_not_before_are_respected(day, offset):
    period = week_of(day)
    all_slots = slots(period, RULES, TZ)
    busy_at = all_slots[offset]
    result = draw(
        [Candidate(1, "strict")],
        period,
        RULES,
        "s",
        busy={1: [busy_at]},
        tz=TZ,
        not_before=all_slots[0],
    )
    for item in result:
        assert abs(item.at - busy_at) >= dt.timedelta(hours=24)
        assert item.at > all_slots[0]


def test_no_room_means_fewer_checks_never_a_broken_gap():
    rules = parse_rules({**DEFAULT_RULES, "min_gap_hours": 24 * 7})
    result = draw([Candidate(1, "strict")], week_of(MONDAY), rules, "s", tz=TZ)
    assert len(result) == 1


# --- Result ------------------------------------------------------------------------------------

RUNG = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
offsets = st.integers(0, 40 * 60)


def _result(join_offset, now_offset=60 * 60, confirmation=""):
    join = None if join_offset is None else RUNG + dt.timedelta(seconds=join_offset)
    return d.decide(
        first_join=join,
        rung_at=RUNG,
        now=RUNG + dt.timedelta(seconds=now_offset),
        rules=RULES,
        confirmation=confirmation,
    )


@pytest.mark.parametrize(
    "join, expected",
    [(0, "in_time"), (300, "in_time"), (301, "late"), (900, "late"), (901, "missed")],
)
def test_the_thresholds(join, expected):
    assert _result(join) == expected


def test_no_join_is_undecided_until_the_room_closes_then_missed():
    assert _result(None, now_offset=899) is None
    assert _result(None, now_offset=900) == "missed"


def test_failed_confirmations_count_as_missed_other_does_not():
    assert _result(10, confirmation="not_the_person") == "missed"
    assert _result(10, confirmation="no_video") == "missed"
    assert _result(10, confirmation="other") == "in_time"
    assert _result(10, confirmation="seen") == "in_time"


def test_excused_wins():
    assert d.decide(first_join=None, rung_at=RUNG, now=RUNG, rules=RULES, excused=True) == "excused"


@given(offsets, offsets)
def test_an_earlier_join_is_never_worse(a, b):
    early, late = sorted((a, b))
    assert d.RANK[_result(early)] <= d.RANK[_result(late)]


@given(st.one_of(st.none(), offsets), offsets, offsets)
def test_a_decided_result_never_changes_as_time_moves_on(join, now_a, now_b):
    first, second = sorted((now_a, now_b))
    before = _result(join, first)
    if before is not None:
        assert _result(join, second) == before


@given(offsets, offsets)
def test_no_join_is_never_better_than_a_join(join, now):
    without = _result(None, now)
    if without is not None:
        assert d.RANK[_result(join, now)] <= d.RANK[without]
