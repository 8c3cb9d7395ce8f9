"""The recompute's fast paths give exactly the reference result.

``PresenceEvent`` keeps what ``read_body`` makes of each body in its ``merge_*`` columns, and
the recompute reads those (``services.read_room_events`` → ``merge_read``) instead of decoding
every body (``merge_presence``). Both must agree on every body, including the ones the columns
cannot describe, rows stored without the columns (``bulk_create``, rows from before the
migration) and rows written by another version of the reading rules. ``decide`` compares its
ratios as integer products; it must decide exactly as the fractions it replaced.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import math
from fractions import Fraction

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import given, settings
from hypothesis import strategies as st

from live import services
from live.attendance import (
    STORED_VERSION,
    PolicyRules,
    decide,
    merge_presence,
    merge_read,
    read_body,
    read_stored,
)
from live.models import PresenceEvent, merge_fields
from tests.live.presence_builders import (
    END,
    START,
    jaas,
    occupant,
    prosody_destroyed,
    prosody_joined,
    prosody_left,
)
from tests.live.test_attendance_properties import bodies

COLUMNS = (
    "merge_version",
    "merge_kind",
    "merge_at",
    "merge_joined_at",
    "merge_scope",
    "merge_connection",
    "merge_key",
)
DEFAULTS = {name: PresenceEvent._meta.get_field(name).get_default() for name in COLUMNS}


def webhook_user_id(body: dict) -> str:
    """The ``user_id`` the webhook parser stores for a body (``live.webhooks``)."""
    if "eventType" in body:
        holder = body.get("data") or {}
    elif body.get("event_name") in ("muc-occupant-joined", "muc-occupant-left"):
        holder = body.get("occupant") or {}
    else:
        return ""
    value = holder.get("id") if isinstance(holder, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def stored_row(body: dict, user_id: str) -> tuple:
    """The row ``read_room_events`` reads for a body stored with ``user_id``."""
    values = {**DEFAULTS, **merge_fields(body, user_id)}
    fresh = values["merge_version"] == STORED_VERSION
    return (
        values["merge_version"],
        values["merge_kind"],
        values["merge_at"],
        values["merge_joined_at"],
        user_id,
        values["merge_scope"],
        values["merge_connection"],
        values["merge_key"],
        None if fresh else body,
    )


@st.composite
def odd_bodies(draw: st.DrawFn) -> list[dict]:
    """Generated bodies plus the awkward ones: a JaaS key sent twice with different content
    (the smallest reading is kept), no key, a numeric user id, a body of neither provider."""
    out = draw(bodies())
    for body in list(out):
        change = draw(st.sampled_from(["none", "none", "same_key", "no_key", "numeric_id"]))
        if change == "none" or "eventType" not in body:
            continue
        twin = copy.deepcopy(body)
        if change == "same_key":
            twin["timestamp"] = body["timestamp"] + draw(st.sampled_from([-60_000, 1, 90_000]))
        elif change == "no_key":
            twin.pop("idempotencyKey")
        elif isinstance(twin.get("data"), dict) and "id" in twin["data"]:
            twin["data"]["id"] = draw(st.integers(1, 3))
        out.append(twin)
    if draw(st.booleans()):
        out.append({"something": "else", "timestamp": 1})
    return out


@settings(deadline=None, max_examples=300)
@given(odd_bodies(), st.data())
def test_the_stored_columns_read_as_the_body(events, data):
    rows = []
    for body in events:
        # a stored user id that is not the body's one makes the row read its body
        user_id = data.draw(st.sampled_from([webhook_user_id(body), "not-the-body-s"]))
        row = stored_row(body, user_id)
        assert read_stored(*row) == read_body(body)
        rows.append(row)
    assert merge_read([read_stored(*row) for row in rows], START, END) == merge_presence(
        events, START, END
    )


def test_a_body_the_columns_cannot_describe_is_read_from_the_payload():
    destroyed = prosody_destroyed(600, [occupant(10, 300), occupant(20, None, user="u-b")])
    assert merge_fields(destroyed, "")["merge_version"] is None
    left = prosody_left(300, joined=10)
    fields = merge_fields(left, webhook_user_id(left))
    assert fields["merge_version"] == STORED_VERSION
    assert fields["merge_joined_at"] is not None  # the join a prosody leave repeats


# --- Through the database -----------------------------------------------------------------------

ROOM = "stored-form-room"


def sample_bodies() -> list[dict]:
    """One of each kind of body, both providers, with a key sent twice and a breakout room."""
    twin = jaas("PARTICIPANT_LEFT", 1200, key="twice")
    later = copy.deepcopy(twin)
    later["timestamp"] += 30_000
    return [
        jaas("PARTICIPANT_JOINED", 0, conn="c1"),
        jaas("PARTICIPANT_JOINED", 30, conn="c2"),
        twin,
        later,
        jaas("PARTICIPANT_LEFT", 600, conn="c2", reason="switch_room"),
        jaas("PARTICIPANT_JOINED", 610, conn="c2", breakout="b1"),
        jaas("ROOM_DESTROYED", 3000, breakout="b1"),
        jaas("RECORDING_UPLOADED", 3500),
        jaas("PARTICIPANT_JOINED", 100, user="u-b", conn=None),
        prosody_joined(50, user="u-c"),
        prosody_left(900, joined=40, user="u-c"),
        prosody_left(1000, joined=None, user="u-d"),
        prosody_destroyed(3300, [occupant(200, 2500, user="u-e"), occupant(300, None)]),
    ]


def _event(body: dict, number: int) -> PresenceEvent:
    return PresenceEvent(
        provider="jaas" if "eventType" in body else "prosody",
        event_type=body.get("eventType") or body.get("event_name"),
        room_name=ROOM,
        user_id=webhook_user_id(body),
        occurred_at=START,
        payload=body,
        dedupe_key=f"stored-form:{number}",
    )


@pytest.mark.django_db
def test_rows_with_and_without_the_columns_give_the_reference_result():
    events = sample_bodies()
    for number, body in enumerate(events[:5]):
        _event(body, number).save()  # save() fills the columns
    unfilled = [_event(body, number) for number, body in enumerate(events[5:], start=5)]
    PresenceEvent.objects.bulk_create(unfilled)  # no save(): the columns stay empty
    # a row written by another version of the reading rules, with columns that lie
    other = _event(jaas("PARTICIPANT_JOINED", 20, user="u-f"), 99)
    other.set_merge_fields()
    other.merge_version, other.merge_at = STORED_VERSION + 1, 0
    PresenceEvent.objects.bulk_create([other])
    events.append(other.payload)

    stored = PresenceEvent.objects.filter(room_name=ROOM)
    assert stored.filter(merge_version=STORED_VERSION).count() == 5
    assert merge_read(services.read_room_events(ROOM), START, END) == merge_presence(
        events, START, END
    )


@pytest.mark.django_db
def test_the_backfill_migration_fills_what_save_would():
    events = sample_bodies()
    PresenceEvent.objects.bulk_create([_event(body, n) for n, body in enumerate(events)])
    migration = importlib.import_module(
        "live.migrations.0007_backfill_presence_event_merge_columns"
    )
    # the historical model, as the migration runs it (the app's own refuses updates)
    state = MigrationExecutor(connection).loader.project_state(
        [("live", "0006_presence_event_merge_columns")]
    )
    migration.fill(state.apps, None)
    for row in PresenceEvent.objects.filter(room_name=ROOM):
        expected = {**DEFAULTS, **merge_fields(row.payload, row.user_id)}
        assert {name: getattr(row, name) for name in COLUMNS} == expected
    # the prosody room end listing its occupants is the one body left to read from its payload
    assert PresenceEvent.objects.filter(room_name=ROOM, merge_version__isnull=True).count() == 1


# --- decide's exact comparisons -----------------------------------------------------------------


def reference_status(seconds: int, scheduled_us: int, rules: PolicyRules, asked, answered):
    """The time and check conditions as fractions, as ``decide`` computed them before."""
    scheduled = Fraction(scheduled_us, 1_000_000)
    time_met = seconds >= Fraction(repr(rules.min_presence_ratio)) * scheduled
    checks_met = asked == 0 or answered >= Fraction(repr(rules.min_checks_ratio)) * asked
    return time_met, checks_met, round(float(seconds / scheduled), 4), int(scheduled)


@settings(deadline=None, max_examples=400)
@given(
    st.integers(1, 7200),
    st.one_of(
        st.integers(60, 7200).map(lambda s: s * 1_000_000), st.integers(60_000_000, 7_200_000_000)
    ),
    st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.95, 1.0, 1 / 3, 0.1 + 0.2]),
    st.sampled_from([0.0, 0.5, 2 / 3, 1.0]),
    st.integers(0, 7),
    st.data(),
)
def test_decide_compares_exactly_as_fractions(seconds, scheduled_us, ratio, checks, asked, data):
    # often exactly on a boundary, where a rounding error would show
    bound = Fraction(repr(ratio)) * Fraction(scheduled_us, 1_000_000)
    seconds = data.draw(
        st.sampled_from([seconds, max(1, math.floor(bound)), max(1, math.ceil(bound))])
    )
    answered = data.draw(st.integers(0, asked))
    start = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    end = start + dt.timedelta(microseconds=scheduled_us)
    rules = PolicyRules(min_presence_ratio=ratio, min_checks_ratio=checks)
    # present from the start: the status says which of the two conditions held
    last = min(end, start + dt.timedelta(seconds=seconds))
    summary = {"seconds": seconds, "intervals": [(start, last)]}
    got = decide(
        summary, start=start, end=end, rules=rules, checks_asked=asked, checks_answered=answered
    )
    time_met, checks_met, ratio_shown, scheduled_seconds = reference_status(
        seconds, scheduled_us, rules, asked, answered
    )
    assert got.figures["ratio"] == ratio_shown
    assert got.figures["scheduled_seconds"] == scheduled_seconds
    if time_met and checks_met:
        assert got.status == "present"
    elif not time_met:
        assert got.status in ("left_early", "absent")
        assert got.figures["rule"] in ("left_early", "too_little_time")
    else:
        assert got.figures["rule"] == "checks_missed"
