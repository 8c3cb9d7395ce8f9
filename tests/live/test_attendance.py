"""``live.attendance``: presence merging on the documented payloads, and the policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from live.attendance import Decision, PolicyError, PolicyRules, decide, merge_presence
from tests.live.conftest import load
from tests.live.presence_builders import (
    END,
    START,
    USER,
    at,
    jaas,
    occupant,
    prosody_destroyed,
    prosody_joined,
    prosody_left,
)

JAAS_SAMPLES = [
    "jaas_room_created.json",
    "jaas_participant_joined.json",
    "jaas_participant_left.json",
    "jaas_room_destroyed.json",
    "jaas_recording_uploaded.json",
]
PROSODY_SAMPLES = [
    "prosody_room_created.json",
    "prosody_occupant_joined.json",
    "prosody_occupant_left.json",
    "prosody_room_destroyed.json",
]


def only(result: dict, user: str = USER) -> tuple[int, list[tuple[datetime, datetime]]]:
    return result[user]["seconds"], result[user]["intervals"]


# --- The documented samples ------------------------------------------------------------------


@pytest.mark.parametrize("samples", [JAAS_SAMPLES, PROSODY_SAMPLES, JAAS_SAMPLES + PROSODY_SAMPLES])
def test_the_documented_samples_give_half_an_hour(samples):
    # joined 02:00, left 02:30, room destroyed 03:00 (both providers' samples say so)
    events = [load(name) for name in samples]
    result = merge_presence(events, START, END)
    assert result == {USER: {"seconds": 1800, "intervals": [(START, at(1800))]}}
    assert merge_presence(list(reversed(events)), START, END) == result


def test_the_replayed_sample_counts_once():
    events = [load(name) for name in JAAS_SAMPLES]
    assert merge_presence([*events, *events], START, END) == merge_presence(events, START, END)


def test_intervals_are_aware_utc_whatever_the_window_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    events = [load(name) for name in JAAS_SAMPLES]
    result = merge_presence(events, START.astimezone(shanghai), END.astimezone(shanghai))
    ((since, until),) = result[USER]["intervals"]
    assert since.utcoffset() == timedelta(0) and since == START and until == at(1800)


def test_the_recording_and_room_creation_prove_nothing():
    events = [load("jaas_room_created.json"), load("jaas_recording_uploaded.json")]
    assert merge_presence(events, START, END) == {}


# --- Missing leaves ---------------------------------------------------------------------------


def test_a_missing_leave_is_closed_by_the_room_end():
    events = [jaas("PARTICIPANT_JOINED", 0), jaas("ROOM_DESTROYED", 2400)]
    assert only(merge_presence(events, START, END)) == (2400, [(START, at(2400))])


def test_a_missing_leave_is_closed_by_the_lecture_end_without_a_room_end():
    events = [jaas("PARTICIPANT_JOINED", 600)]
    assert only(merge_presence(events, START, END)) == (3000, [(at(600), END)])


def test_a_missing_leave_is_closed_by_the_last_heartbeat_plus_90_seconds():
    events = [jaas("PARTICIPANT_JOINED", 0), jaas("ROOM_DESTROYED", 3000)]
    beats = {USER: [at(100), at(1200), at(600)]}
    assert only(merge_presence(events, START, END, heartbeats=beats)) == (
        1290,
        [(START, at(1290))],
    )


def test_the_earliest_of_room_end_heartbeat_and_lecture_end_wins():
    events = [jaas("PARTICIPANT_JOINED", 0), jaas("ROOM_DESTROYED", 1000)]
    beats = {USER: [at(2000)]}
    assert only(merge_presence(events, START, END, heartbeats=beats))[0] == 1000


def test_a_watched_participant_never_seen_gets_nothing_for_an_unclosed_connection():
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn="a"),
        jaas("PARTICIPANT_LEFT", 600, conn="a"),
        jaas("PARTICIPANT_JOINED", 900, conn="b"),  # never left
    ]
    result = merge_presence(events, START, END, heartbeats={USER: []})
    assert only(result) == (600, [(START, at(600))])


def test_heartbeats_never_lengthen_a_closed_connection():
    events = [jaas("PARTICIPANT_JOINED", 0), jaas("PARTICIPANT_LEFT", 600)]
    beats = {USER: [at(3000)]}
    assert only(merge_presence(events, START, END, heartbeats=beats)) == (600, [(START, at(600))])


def test_heartbeats_of_other_participants_do_not_matter():
    events = [jaas("PARTICIPANT_JOINED", 0)]
    result = merge_presence(events, START, END, heartbeats={"someone-else": []})
    assert only(result)[0] == 3600


# --- Reconnects, gaps, switches ------------------------------------------------------------------


def test_a_reconnect_overlap_is_merged():
    # the new connection joins before the old one's leave arrives
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn="old"),
        jaas("PARTICIPANT_JOINED", 1200, conn="new"),
        jaas("PARTICIPANT_LEFT", 1230, conn="old", reason="unknown"),
        jaas("PARTICIPANT_LEFT", 2400, conn="new"),
    ]
    assert only(merge_presence(events, START, END)) == (2400, [(START, at(2400))])


def test_a_second_device_keeps_the_participant_present():
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn="phone"),
        jaas("PARTICIPANT_JOINED", 60, conn="laptop"),
        jaas("PARTICIPANT_LEFT", 600, conn="phone"),
        jaas("PARTICIPANT_LEFT", 3000, conn="laptop"),
    ]
    assert only(merge_presence(events, START, END))[0] == 3000


@pytest.mark.parametrize(("gap", "bridged"), [(1, True), (89, True), (90, False), (300, False)])
def test_gaps_under_90_seconds_are_bridged(gap, bridged):
    events = [
        jaas("PARTICIPANT_JOINED", 0),
        jaas("PARTICIPANT_LEFT", 600),
        jaas("PARTICIPANT_JOINED", 600 + gap),
        jaas("PARTICIPANT_LEFT", 1800),
    ]
    seconds, intervals = only(merge_presence(events, START, END))
    if bridged:
        assert (seconds, intervals) == (1800, [(START, at(1800))])
    else:
        assert intervals == [(START, at(600)), (at(600 + gap), at(1800))]
        assert seconds == 1800 - gap


def test_switch_room_is_not_a_leave():
    # moved to a breakout room whose events this lecture does not see, then came back
    events = [
        jaas("PARTICIPANT_JOINED", 0),
        jaas("PARTICIPANT_LEFT", 600, reason="switch_room"),
        jaas("PARTICIPANT_JOINED", 1500),
        jaas("PARTICIPANT_LEFT", 2400),
    ]
    assert only(merge_presence(events, START, END)) == (2400, [(START, at(2400))])


def test_leaving_from_the_breakout_room_ends_the_switched_connection():
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn="main"),
        jaas("PARTICIPANT_LEFT", 600, conn="main", reason="switch_room"),
        jaas("PARTICIPANT_JOINED", 601, conn="main", breakout="b1"),
        jaas("PARTICIPANT_LEFT", 1800, conn="main", breakout="b1"),
    ]
    assert only(merge_presence(events, START, END)) == (1800, [(START, at(1800))])


def test_a_switch_without_anything_after_is_a_missing_leave():
    events = [
        jaas("PARTICIPANT_JOINED", 0),
        jaas("PARTICIPANT_LEFT", 600, reason="switch_room"),
        jaas("ROOM_DESTROYED", 2000),
    ]
    assert only(merge_presence(events, START, END))[0] == 2000


def test_a_breakout_room_end_does_not_close_the_main_room():
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn="a"),
        jaas("PARTICIPANT_JOINED", 100, conn="b", breakout="b1"),
        jaas("ROOM_DESTROYED", 700, breakout="b1"),
        jaas("PARTICIPANT_LEFT", 3000, conn="a"),
    ]
    assert only(merge_presence(events, START, END))[0] == 3000
    # while a main-room end closes every connection still open
    events = [jaas("PARTICIPANT_JOINED", 100, conn="b", breakout="b1"), jaas("ROOM_DESTROYED", 700)]
    assert only(merge_presence(events, START, END))[0] == 600


def test_a_leave_and_a_join_at_one_instant_on_one_connection_give_nothing():
    events = [jaas("PARTICIPANT_JOINED", 600), jaas("PARTICIPANT_LEFT", 600)]
    assert merge_presence(events, START, END) == {USER: {"seconds": 0, "intervals": []}}


# --- Window and whole seconds ------------------------------------------------------------------


def test_everything_is_clipped_to_the_lecture_window():
    events = [jaas("PARTICIPANT_JOINED", -900), jaas("PARTICIPANT_LEFT", 4500)]
    assert only(merge_presence(events, START, END)) == (3600, [(START, END)])


def test_presence_only_outside_the_window_counts_nothing_but_is_reported():
    events = [jaas("PARTICIPANT_JOINED", -900), jaas("PARTICIPANT_LEFT", -300)]
    assert merge_presence(events, START, END) == {USER: {"seconds": 0, "intervals": []}}


def test_millisecond_times_are_narrowed_to_whole_seconds():
    events = [jaas("PARTICIPANT_JOINED", 10.2), jaas("PARTICIPANT_LEFT", 70.9)]
    assert only(merge_presence(events, START, END)) == (59, [(at(11), at(70))])


# --- Prosody specifics ---------------------------------------------------------------------------


def test_a_prosody_leave_alone_carries_its_join():
    events = [prosody_left(1200, joined=300)]
    assert only(merge_presence(events, START, END)) == (900, [(at(300), at(1200))])


def test_a_prosody_leave_without_join_time_closes_an_open_connection():
    events = [prosody_joined(300), prosody_left(1200, joined=None)]
    assert only(merge_presence(events, START, END))[0] == 900


def test_the_room_end_lists_every_occupant_even_if_other_webhooks_were_lost():
    events = [
        prosody_destroyed(
            3000,
            [
                occupant(0, 600, conn="a"),
                occupant(900, None, conn="b"),  # still there when the room closed
                occupant(100, 200, user="u-other"),
                occupant(500, 400, user="u-garbage"),  # left before joining: ignored
            ],
        )
    ]
    result = merge_presence(events, START, END)
    assert result[USER] == {"seconds": 2700, "intervals": [(START, at(600)), (at(900), at(3000))]}
    assert result["u-other"]["seconds"] == 100
    assert "u-garbage" not in result


def test_a_prosody_breakout_leave_is_presence_in_the_lecture():
    events = [
        prosody_left(600, joined=0, conn="main"),
        prosody_left(1800, joined=601, conn="main", breakout="b1"),
    ]
    assert only(merge_presence(events, START, END))[0] == 1800


# --- Odd input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"eventType": "PARTICIPANT_JOINED"},
        {"eventType": "NOT_A_TYPE", "timestamp": 1772503200000, "data": {"id": USER}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": "1772503200000", "data": {"id": USER}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": True, "data": {"id": USER}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": float("nan"), "data": {"id": USER}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": 10**20, "data": {"id": USER}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": 1772503200000, "data": {"id": ""}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": 1772503200000, "data": {"id": None}},
        {"eventType": "PARTICIPANT_JOINED", "timestamp": 1772503200000, "data": "x"},
        {"event_name": "muc-occupant-joined", "occupant": "x"},
        {"event_name": "muc-occupant-joined", "occupant": {"id": USER}},
        {"event_name": "muc-room-destroyed", "all_occupants": "x"},
    ],
)
def test_bodies_that_prove_nothing_are_ignored(body):
    assert merge_presence([body], START, END) == {}


def test_a_numeric_user_id_is_read_as_text():
    body = jaas("PARTICIPANT_JOINED", 0)
    body["data"]["id"] = 42
    assert merge_presence([body], START, END)["42"]["seconds"] == 3600


def test_a_participant_without_connection_id_is_one_connection():
    events = [
        jaas("PARTICIPANT_JOINED", 0, conn=None),
        jaas("PARTICIPANT_LEFT", 600, conn=None),
    ]
    assert only(merge_presence(events, START, END))[0] == 600


def test_one_idempotency_key_is_one_event_whatever_the_order():
    first = jaas("PARTICIPANT_JOINED", 0, key="same")
    second = jaas("PARTICIPANT_JOINED", 1200, key="same")
    leave = jaas("PARTICIPANT_LEFT", 1800)
    forward = merge_presence([first, second, leave], START, END)
    assert forward == merge_presence([leave, second, first], START, END)
    assert only(forward)[0] == 1800  # the earlier of the two is kept


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START.replace(tzinfo=None), END),
        (START, END.replace(tzinfo=None)),
        (END, START),
        (START, START),
        ("2026-03-03", END),
    ],
)
def test_it_rejects_a_bad_window(start, end):
    with pytest.raises(ValueError):
        merge_presence([], start, end)


def test_it_rejects_naive_heartbeats_and_non_mapping_events():
    with pytest.raises(ValueError):
        merge_presence([], START, END, heartbeats={USER: [datetime(2026, 3, 3, 2, 0)]})  # noqa: DTZ001
    with pytest.raises(TypeError):
        merge_presence(["PARTICIPANT_JOINED"], START, END)


# --- Policy rules --------------------------------------------------------------------------------

RULES = PolicyRules()
FIRST_RULES = {  # live/migrations/0003: version 1 as stored
    "min_presence_ratio": 0.9,
    "late_after_minutes": 10,
    "left_early_before_minutes": 10,
    "min_checks_ratio": 0.5,
}


def test_the_defaults_are_the_issue_s_example_policy():
    assert RULES.to_dict() == {
        "min_presence_ratio": 0.9,
        "late_after_minutes": 10,
        "left_early_before_minutes": 10,
        "min_checks_ratio": 1.0,
    }


def test_rules_round_trip_through_json():
    rules = PolicyRules.from_dict(FIRST_RULES)
    assert rules.min_checks_ratio == 0.5
    assert PolicyRules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules


def test_integer_ratios_are_accepted_as_numbers():
    rules = PolicyRules.from_dict({**FIRST_RULES, "min_presence_ratio": 1, "min_checks_ratio": 0})
    assert rules.min_presence_ratio == 1.0 and isinstance(rules.min_presence_ratio, float)


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({**FIRST_RULES, "extra": 1}, "extra"),
        ({k: v for k, v in FIRST_RULES.items() if k != "min_checks_ratio"}, "min_checks_ratio"),
        ({**FIRST_RULES, "min_presence_ratio": 1.5}, "min_presence_ratio"),
        ({**FIRST_RULES, "min_presence_ratio": -0.1}, "min_presence_ratio"),
        ({**FIRST_RULES, "min_presence_ratio": float("nan")}, "min_presence_ratio"),
        ({**FIRST_RULES, "min_presence_ratio": "0.9"}, "min_presence_ratio"),
        ({**FIRST_RULES, "min_checks_ratio": True}, "min_checks_ratio"),
        ({**FIRST_RULES, "late_after_minutes": 10.5}, "late_after_minutes"),
        ({**FIRST_RULES, "late_after_minutes": -1}, "late_after_minutes"),
        ({**FIRST_RULES, "left_early_before_minutes": 24 * 60 + 1}, "left_early_before_minutes"),
        ({**FIRST_RULES, "left_early_before_minutes": None}, "left_early_before_minutes"),
    ],
)
def test_malformed_rules_name_the_rule(data, names):
    with pytest.raises(PolicyError, match=names):
        PolicyRules.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "rules", 3])
def test_rules_must_be_an_object(data):
    with pytest.raises(PolicyError):
        PolicyRules.from_dict(data)


def test_rules_are_immutable():
    with pytest.raises(AttributeError):
        RULES.min_presence_ratio = 0.1  # type: ignore[misc]


# --- Decisions ---------------------------------------------------------------------------------


def summary(*pairs: tuple[float, float]) -> dict:
    intervals = [(at(a), at(b)) for a, b in pairs]
    return {"seconds": int(sum(b - a for a, b in pairs)), "intervals": intervals}


def status(s, **kwargs) -> str:
    kwargs.setdefault("rules", RULES)
    return decide(s, start=START, end=END, **kwargs).status


def test_the_whole_lecture_is_present():
    decision = decide(summary((0, 3600)), start=START, end=END, rules=RULES)
    assert decision == Decision(
        status="present",
        figures={
            "seconds": 3600,
            "scheduled_seconds": 3600,
            "ratio": 1.0,
            "first_join": "2026-03-03T02:00:00+00:00",
            "last_leave": "2026-03-03T03:00:00+00:00",
            "checks": {"asked": 0, "answered": 0},
            "rule": "met",
        },
    )
    json.dumps(decision.figures)  # stored as-is in a JSONField


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([(0, 3240)], "present"),  # exactly 90 %, left 6 min early
        ([(0, 3239)], "absent"),  # one second short, left 6 min early
        ([(0, 2999)], "left_early"),  # left more than 10 min before the end
        ([(0, 3000)], "absent"),  # left exactly 10 min before the end: not "early"
        ([(360, 3600)], "present"),  # 6 min late is not late
        ([(600, 3600)], "absent"),  # 10 min late: not late, but below 90 %
        ([(0, 1000), (1400, 3600)], "absent"),  # a long gap in the middle
        ([], "absent"),
    ],
)
def test_the_default_rules(pairs, expected):
    assert status(summary(*pairs)) == expected


def test_late_needs_the_time_ratio_met():
    rules = PolicyRules(min_presence_ratio=0.8)
    assert status(summary((601, 3600)), rules=rules) == "late"
    assert status(summary((600, 3600)), rules=rules) == "present"  # exactly 10 min: on time
    assert status(summary((900, 3600)), rules=rules) == "absent"  # 75 %


def test_never_seen_is_absent():
    decision = decide(None, start=START, end=END, rules=RULES)
    assert decision.status == "absent"
    assert decision.figures["rule"] == "no_presence"
    assert decision.figures["first_join"] is None and decision.figures["seconds"] == 0


def test_presence_checks_must_be_answered():
    full = summary((0, 3600))
    assert status(full, checks_asked=3, checks_answered=3) == "present"
    missed = decide(full, start=START, end=END, rules=RULES, checks_asked=3, checks_answered=2)
    assert (missed.status, missed.figures["rule"]) == ("absent", "checks_missed")
    half = PolicyRules.from_dict(FIRST_RULES)
    assert status(full, rules=half, checks_asked=4, checks_answered=2) == "present"
    assert status(full, rules=half, checks_asked=3, checks_answered=1) == "absent"
    assert status(full, rules=half, checks_asked=0, checks_answered=0) == "present"


def test_checks_do_not_rescue_too_little_time():
    assert status(summary((0, 1200)), checks_asked=2, checks_answered=2) == "left_early"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"checks_asked": 1, "checks_answered": 2},
        {"checks_asked": -1},
        {"checks_asked": True},
        {"start": START.replace(tzinfo=None)},
        {"end": START},
    ],
)
def test_decide_rejects_bad_arguments(kwargs):
    arguments = {"start": START, "end": END, "rules": RULES, **kwargs}
    with pytest.raises(ValueError):
        decide(summary((0, 3600)), **arguments)


def test_merge_then_decide_on_the_documented_samples():
    events = [load(name) for name in JAAS_SAMPLES]
    result = merge_presence(events, START, END)
    decision = decide(result[USER], start=START, end=END, rules=RULES)
    assert decision.status == "left_early"
    assert decision.figures["ratio"] == 0.5
    assert decision.figures["last_leave"] == "2026-03-03T02:30:00+00:00"
    assert datetime.fromisoformat(decision.figures["first_join"]) == START.astimezone(UTC)
