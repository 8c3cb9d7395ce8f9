"""Attendance from the video server's own events, and the attendance policy.

Pure functions, no database: ``merge_presence`` turns a lecture's webhook bodies into
presence intervals per participant; ``decide`` applies a ``PolicyRules`` version to one
participant's intervals. ``live.services`` loads the events and stores the ``Attendance``.

merge_presence(events, start, end, *, heartbeats=None)
======================================================

``events`` are webhook bodies exactly as they arrive (``PresenceEvent.payload``): JaaS bodies
(``eventType``, ``timestamp`` in milliseconds, ``idempotencyKey``, ``data``) and prosody
``event_sync`` bodies (``event_name``, times in seconds inside ``occupant`` or the body). The
caller passes the events of one lecture's room. The result maps each participant id (the
token's ``context.user.id``: JaaS ``data.id``, prosody ``occupant.id``) seen in a participant
event to ``{"seconds": int, "intervals": [(start, end), ...]}`` with aware UTC datetimes.
The rules, exactly:

1. **What counts.** A JaaS ``PARTICIPANT_JOINED`` is a *join* and ``PARTICIPANT_LEFT`` a
   *leave*, at the body's ``timestamp``; a leave whose ``data.disconnectReason`` is
   ``switch_room`` (moving to or from a breakout room) is a *switch*, not a leave.
   ``ROOM_DESTROYED`` is a *room end*. A prosody ``muc-occupant-joined`` is a join at
   ``occupant.joined_at``; ``muc-occupant-left`` is a leave at ``occupant.left_at`` *and* a
   join at its ``occupant.joined_at`` (prosody repeats it, so a lost join webhook costs
   nothing); ``muc-room-destroyed`` is a room end at ``destroyed_at`` and, for each entry of
   ``all_occupants``, a join at ``joined_at`` and a leave at ``left_at`` if given (an entry
   whose ``left_at``, or without one the room end, is before its ``joined_at`` is ignored).
   Room creation, recordings, other types, participant events without a user id and bodies
   without a usable time (a finite number in the years 2000-2200) prove nothing and are
   ignored.
2. **Connections.** A participant may be connected several times at once (two devices, or a
   reconnect whose new connection joins before the old one's leave arrives). Each connection
   is tracked on its own, keyed by (user id, room scope, connection id): JaaS
   ``data.participantId`` (else ``participantJid``), prosody ``occupant.occupant_jid``; the
   scope is the breakout room id for breakout-room events, else the main room. Events
   without a connection id share one connection per user and scope.
3. **Order.** Events are applied in the provider's time order, never in arrival order; at
   one instant joins come first, then switches, then leaves, then room ends (so a join and a
   leave at the same instant give nothing), remaining ties broken by user, scope and
   connection. Equal events count once, and JaaS bodies with one ``idempotencyKey`` are one
   event (if they differ, the smallest in this order is kept).
4. **A connection's presence.** A join opens a closed connection; a join on an open one
   changes nothing. A switch puts an open connection *in transit*: it stays present, and is
   closed by the participant's next leave on *any* connection (they moved rooms and then
   left from there) unless a join on the same connection reopens it first. A leave closes
   its connection, and every connection of that participant in transit, at the leave's time.
   A leave of a connection that is not open closes only those in transit.
5. **Missing leaves.** A connection still open at a room end (a main-room end closes every
   connection, a breakout room's end only that room's) or after the last event is closed at
   the earliest of: the room end (if any), the participant's last heartbeat + 90 s (only if
   ``heartbeats`` lists the participant; an empty list there means "watched, never seen",
   which closes the connection where it opened), and the lecture ``end``; never before it
   opened.
6. **Merging.** A participant's connection intervals are united; gaps shorter than 90 s
   between them are bridged (counted as present; exactly 90 s is not bridged); the result is
   clipped to ``[start, end]``; each interval is then narrowed to the whole seconds inside it
   (start rounded up, end down; empty ones dropped), which loses under 2 s per interval and
   makes ``seconds`` exactly the sum of the interval lengths.

Properties (``tests/live/test_attendance_properties.py``): shuffling or duplicating events
never changes the result; intervals are sorted, inside the window, and separated by at least
90 s. Dropping *join* events (or ignored ones) never increases anyone's credit; in fact every
interval of the smaller result lies inside one of the larger. Dropping *any* event cannot
have that property together with rule 5: a join at 10:00 and a leave at 10:10 give 10 minutes,
and without the leave the connection runs to the lecture end. Heartbeats only shorten.

Call it with ``end = min(lecture end, now)`` while a lecture is still running, or open
connections are credited up to the scheduled end.

Policy
======

``PolicyRules`` is one version of the administrator-editable policy; ``decide`` applies it in
this order (first match wins):

1. ``absent`` if no second was credited;
2. if the credited time is at least ``min_presence_ratio`` of the scheduled time and at least
   ``min_checks_ratio`` of the presence checks asked were answered (no checks asked: met):
   ``late`` if the first credited instant is more than ``late_after_minutes`` after the start,
   else ``present``;
3. below the time ratio: ``left_early`` if the last credited instant is more than
   ``left_early_before_minutes`` before the end, else ``absent``;
4. time met but checks missed: ``absent`` (not verifiably at the screen).

Excuses are not ``decide``'s: ``live.services`` records ``excused`` for a person it did not
find attending (neither present nor late) whose absence was approved beforehand.

Comparisons are exact (ratios as fractions of their decimal form), boundaries inclusive for
the person: exactly 90 % is enough, joining exactly 10 minutes late is not late.

Presence checks (``live.roster``) enter in two ways: ``decide`` counts the checks asked and
answered (step 2), and, when the policy counts checks at all (``min_checks_ratio`` > 0),
``shorten_by_checks`` first removes the credit from each missed check until the person's
next answered one (or the end). Both only ever take credit away.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

from django.utils.translation import gettext as _

SWITCH_ROOM = "switch_room"

_US = 1_000_000
_BRIDGE_US = 90 * _US
_GRACE_US = 90 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# provider times outside 2000-01-01 .. 2200-01-01 are garbage, not evidence
_MIN_US = 946_684_800 * _US
_MAX_US = 7_258_118_400 * _US

# kinds, in the order they apply at one instant
_JOIN, _SWITCH, _LEAVE, _ROOM_END = 1, 2, 3, 4
PARTICIPANT_KINDS = frozenset({_JOIN, _SWITCH, _LEAVE})
_MAIN = ""

# (time in µs, kind, user id, scope, connection id)
_Event = tuple[int, int, str, str, str]
_Key = tuple[str, str, str]


class Summary(TypedDict):
    seconds: int
    intervals: list[tuple[datetime, datetime]]


# --- Reading bodies -----------------------------------------------------------------------------


def _to_us(value: Any, unit: int) -> int | None:
    """Microseconds since the epoch from a number of ``unit`` µs, or None if unusable."""
    kind = type(value)
    if kind is int:
        us = value * unit
    elif kind is float and math.isfinite(value):
        us = round(value * unit)
    else:  # bool, str, None, NaN, ...
        return None
    return us if _MIN_US <= us <= _MAX_US else None


def _ident(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    return str(value) if kind is int else ""


def _scope(is_breakout: Any, breakout_id: Any) -> str:
    # a breakout event without its room id still is not the main room
    return "breakout:" + _ident(breakout_id) if is_breakout is True else _MAIN


def _read_jaas(body: Mapping[str, Any]) -> list[_Event]:
    at = _to_us(body.get("timestamp"), 1000)
    if at is None:
        return []
    data = body.get("data")
    if type(data) is not dict and not isinstance(data, Mapping):
        data = {}
    event_type = body.get("eventType")
    scope = _scope(data.get("isBreakout"), data.get("breakoutRoomId"))
    if event_type == "ROOM_DESTROYED":
        return [(at, _ROOM_END, "", scope, "")]
    if event_type == "PARTICIPANT_JOINED":
        kind = _JOIN
    elif event_type == "PARTICIPANT_LEFT":
        kind = _SWITCH if data.get("disconnectReason") == SWITCH_ROOM else _LEAVE
    else:
        return []
    user = _ident(data.get("id"))
    if not user:
        return []
    conn = _ident(data.get("participantId")) or _ident(data.get("participantJid"))
    return [(at, kind, user, scope, conn)]


def _occupant(occupant: Any) -> tuple[str, str, int | None, int | None] | None:
    """(user, connection, joined_at, left_at) of an ``event_sync`` occupant, if it has a user."""
    if not isinstance(occupant, Mapping):
        return None
    user = _ident(occupant.get("id"))
    if not user:
        return None
    return (
        user,
        _ident(occupant.get("occupant_jid")),
        _to_us(occupant.get("joined_at"), _US),
        _to_us(occupant.get("left_at"), _US),
    )


def _read_prosody(body: Mapping[str, Any]) -> list[_Event]:
    name = body.get("event_name")
    scope = _scope(body.get("is_breakout"), body.get("breakout_room_id"))
    if name in ("muc-occupant-joined", "muc-occupant-left"):
        found = _occupant(body.get("occupant"))
        if found is None:
            return []
        user, conn, joined, left = found
        if name == "muc-occupant-joined":
            return [] if joined is None else [(joined, _JOIN, user, scope, conn)]
        if left is None:
            return []
        out = [(left, _LEAVE, user, scope, conn)]
        if joined is not None and joined <= left:
            out.append((joined, _JOIN, user, scope, conn))
        return out
    if name != "muc-room-destroyed":
        return []
    at = _to_us(body.get("destroyed_at"), _US)
    out = [] if at is None else [(at, _ROOM_END, "", scope, "")]
    occupants = body.get("all_occupants")
    for occupant in occupants if isinstance(occupants, list) else ():
        found = _occupant(occupant)
        if found is None:
            continue
        user, conn, joined, left = found
        latest = left if left is not None else at
        if joined is None or (latest is not None and latest < joined):
            continue
        out.append((joined, _JOIN, user, scope, conn))
        if left is not None:
            out.append((left, _LEAVE, user, scope, conn))
    return out


def read_body(body: Mapping[str, Any]) -> tuple[str, tuple[_Event, ...]]:
    """Rule 1 for one body: ``(idempotency key, events)``, the key "" unless it is a JaaS body
    with a non-empty string ``idempotencyKey``. Raises ``TypeError`` for a non-mapping."""
    if type(body) is not dict and not isinstance(body, Mapping):
        raise TypeError("events must be webhook bodies (mappings)")
    if "eventType" in body:
        key = body.get("idempotencyKey")
        return (key if isinstance(key, str) and key else "", tuple(_read_jaas(body)))
    if "event_name" in body:
        return "", tuple(_read_prosody(body))
    return "", ()


def _read_all(read: Iterable[tuple[str, tuple[_Event, ...]]]) -> list[_Event]:
    """Every event of the read bodies, duplicates removed, in application order (rule 3)."""
    found: set[_Event] = set()
    by_key: dict[str, tuple[_Event, ...]] = {}
    for key, events in read:
        if key:
            kept = by_key.get(key)
            if kept is None or events < kept:
                by_key[key] = events
        else:
            found.update(events)
    for events in by_key.values():
        found.update(events)
    return sorted(found)


# --- Stored form --------------------------------------------------------------------------------
# ``PresenceEvent`` keeps, beside the raw body, what ``read_body`` makes of it in a few columns,
# so that a recompute reads compact tuples instead of decoding every body. A body whose reading
# does not fit (a prosody room end listing its occupants) is read from its payload again.

# Bump when rule 1 (reading a body) changes: rows stored by an older version are read again.
STORED_VERSION = 1


class StoredForm(NamedTuple):
    """What ``read_body`` makes of one body, as ``PresenceEvent``'s ``merge_*`` columns: the
    kind (0: proves nothing), its time and, for a prosody leave, the join it repeats (µs);
    ``user`` must equal the row's ``user_id`` for a participant event."""

    kind: int
    at: int | None
    joined_at: int | None
    user: str
    scope: str
    connection: str
    key: str


def stored_form(body: Mapping[str, Any]) -> StoredForm | None:
    """The stored form of a body, or None if its reading does not fit the columns."""
    key, events = read_body(body)
    if not events:
        return StoredForm(0, None, None, "", "", "", key)
    at, kind, user, scope, conn = events[0]
    if len(events) == 1:
        return StoredForm(kind, at, None, user, scope, conn, key)
    if len(events) == 2 and kind == _LEAVE and events[1][1:] == (_JOIN, user, scope, conn):
        return StoredForm(kind, at, events[1][0], user, scope, conn, key)
    return None


def read_stored(
    version: int | None,
    kind: int,
    at: int | None,
    joined_at: int | None,
    user: str,
    scope: str,
    connection: str,
    key: str,
    body: Mapping[str, Any] | None,
) -> tuple[str, tuple[_Event, ...]]:
    """``read_body`` of a stored row: from its columns if they hold the current
    ``STORED_VERSION``, else from ``body`` (which the caller then must pass)."""
    if version != STORED_VERSION:
        return read_body(body)
    if not kind:
        return key, ()
    if kind == _ROOM_END:
        return key, ((at, kind, "", scope, ""),)
    if joined_at is None:
        return key, ((at, kind, user, scope, connection),)
    return key, ((at, kind, user, scope, connection), (joined_at, _JOIN, user, scope, connection))


# --- Merging ------------------------------------------------------------------------------------


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def _connection_intervals(
    ordered: list[_Event], end_us: int, bounds: Mapping[str, int]
) -> tuple[dict[str, list[tuple[int, int]]], set[str]]:
    """Rules 4 and 5: each connection's [since, until] intervals, per user (µs)."""
    open_since: dict[_Key, int] = {}
    in_transit: dict[str, set[_Key]] = defaultdict(set)
    raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
    users: set[str] = set()

    def close_missing(key: _Key, since: int, at: int) -> None:
        bound = bounds.get(key[0])
        until = at if bound is None else min(at, bound)
        raw[key[0]].append((since, max(since, until)))

    for at, kind, user, scope, conn in ordered:
        if kind == _ROOM_END:
            ended = [k for k in open_since if scope == _MAIN or k[1] == scope]
            for key in ended:
                in_transit[key[0]].discard(key)
                close_missing(key, open_since.pop(key), at)
            continue
        users.add(user)
        key = (user, scope, conn)
        if kind == _JOIN:
            if key in open_since:
                in_transit[user].discard(key)
            else:
                open_since[key] = at
        elif kind == _SWITCH:
            if key in open_since:
                in_transit[user].add(key)
        else:
            if key in open_since:
                raw[user].append((open_since.pop(key), at))
                in_transit[user].discard(key)
            for moved in in_transit.pop(user, ()):
                raw[user].append((open_since.pop(moved), at))
    for key, since in open_since.items():
        close_missing(key, since, end_us)
    return raw, users


def _whole_seconds(intervals: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Rule 6's narrowing: each [since, until] (µs) to the whole seconds inside it, start
    rounded up and end down; intervals left empty are dropped."""
    out: list[tuple[int, int]] = []
    for since, until in intervals:
        since = -(-since // _US) * _US
        until = until // _US * _US
        if until > since:
            out.append((since, until))
    return out


def _merge(pieces: list[tuple[int, int]], start_us: int, end_us: int) -> list[tuple[int, int]]:
    """Rule 6: unite, bridge gaps < 90 s, clip, narrow to whole seconds."""
    merged: list[list[int]] = []
    for since, until in sorted(p for p in pieces if p[1] > p[0]):
        if merged and since - merged[-1][1] < _BRIDGE_US:
            merged[-1][1] = max(merged[-1][1], until)
        else:
            merged.append([since, until])
    return _whole_seconds((max(since, start_us), min(until, end_us)) for since, until in merged)


def merge_presence(
    events: Iterable[Mapping[str, Any]],
    start: datetime,
    end: datetime,
    *,
    heartbeats: Mapping[str, Iterable[datetime]] | None = None,
) -> dict[str, Summary]:
    """Presence per participant id from a lecture's webhook bodies; see the module docstring
    for the exact rules. ``heartbeats`` (optional) maps a participant id to the instants it
    was independently seen present (the lecture page's websocket, a ``mod_muc_size``
    reconciliation): they can only shorten a connection whose leave is missing.

    Raises ``ValueError`` for naive datetimes or ``end <= start`` and ``TypeError`` for an
    event that is not a mapping."""
    return merge_read(map(read_body, events), start, end, heartbeats=heartbeats)


def merge_read(
    read: Iterable[tuple[str, tuple[_Event, ...]]],
    start: datetime,
    end: datetime,
    *,
    heartbeats: Mapping[str, Iterable[datetime]] | None = None,
) -> dict[str, Summary]:
    """``merge_presence`` of bodies already read (``read_body``, or ``read_stored`` of their
    stored rows): the same result for the same bodies."""
    start_us = _us(_aware(start, "start"))
    end_us = _us(_aware(end, "end"))
    if end_us <= start_us:
        raise ValueError("end must be after start")
    bounds: dict[str, int] = {}
    for user, seen in (heartbeats or {}).items():
        instants = [_us(_aware(at, "heartbeat")) for at in seen]
        # watched but never seen: the bound lies before any event, so nothing is added
        bounds[user] = max(instants) + _GRACE_US if instants else _MIN_US - 1
    raw, users = _connection_intervals(_read_all(read), end_us, bounds)
    result: dict[str, Summary] = {}
    for user in sorted(users):
        intervals = _merge(raw.get(user, []), start_us, end_us)
        result[user] = {
            "seconds": sum(until - since for since, until in intervals) // _US,
            "intervals": [(_at(since), _at(until)) for since, until in intervals],
        }
    return result


# --- Policy -------------------------------------------------------------------------------------


class PolicyError(ValueError):
    """A policy's rules are malformed; the message says which rule and why."""


_RATIOS = ("min_presence_ratio", "min_checks_ratio")
_MINUTES = ("late_after_minutes", "left_early_before_minutes")
MAX_MINUTES = 24 * 60


@dataclass(frozen=True)
class PolicyRules:
    """One version of the attendance policy (stored as JSON in ``AttendancePolicy.rules``).

    ``min_presence_ratio``: share of the scheduled time a person must be credited to count
    as attending; ``late_after_minutes``: joining more than this after the start is late;
    ``left_early_before_minutes``: below the ratio and leaving more than this before the end
    is "left early"; ``min_checks_ratio``: share of presence checks that must be answered.
    """

    min_presence_ratio: float = 0.9
    late_after_minutes: int = 10
    left_early_before_minutes: int = 10
    min_checks_ratio: float = 1.0

    def __post_init__(self) -> None:
        for name in _RATIOS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(_("%(rule)s must be a number.") % {"rule": name})
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise PolicyError(_("%(rule)s must be between 0 and 1.") % {"rule": name})
            object.__setattr__(self, name, float(value))
        for name in _MINUTES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyError(_("%(rule)s must be a whole number of minutes.") % {"rule": name})
            if not 0 <= value <= MAX_MINUTES:
                raise PolicyError(
                    _("%(rule)s must be between 0 and %(max)s minutes.")
                    % {"rule": name, "max": MAX_MINUTES}
                )

    @classmethod
    def from_dict(cls, data: Any) -> PolicyRules:
        """Rules from stored JSON. Every rule must be given (a stored version must never
        depend on the defaults in this code) and no other key is allowed."""
        if not isinstance(data, Mapping):
            raise PolicyError(_("The rules must be an object."))
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise PolicyError(_("Unknown rule: %(rule)s.") % {"rule": ", ".join(map(str, unknown))})
        missing = sorted(names - set(data))
        if missing:
            raise PolicyError(_("Missing rule: %(rule)s.") % {"rule": ", ".join(missing)})
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """A status and the figures that decided it (JSON-ready: numbers, strings, None).

    ``figures``: ``seconds`` credited, ``scheduled_seconds``, ``ratio`` (rounded to 4
    places, for display; the decision used the exact value), ``first_join`` and
    ``last_leave`` (ISO 8601, or None), ``checks`` ``{"asked", "answered"}`` and ``rule``:
    which step of the order decided (``no_presence``, ``met``, ``joined_late``,
    ``left_early``, ``too_little_time``, ``checks_missed``)."""

    status: str
    figures: dict[str, Any]


@lru_cache(maxsize=64)
def _exact(value: float) -> Fraction:
    return Fraction(repr(value))


def decide(
    summary: Mapping[str, Any] | None,
    *,
    start: datetime,
    end: datetime,
    rules: PolicyRules,
    checks_asked: int = 0,
    checks_answered: int = 0,
) -> Decision:
    """Apply ``rules`` to one person's ``merge_presence`` summary (None: never seen) for a
    lecture scheduled from ``start`` to ``end``, in the order the module docstring gives."""
    start = _aware(start, "start")
    end = _aware(end, "end")
    if end <= start:
        raise ValueError("end must be after start")
    for name, value in (("checks_asked", checks_asked), ("checks_answered", checks_answered)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int")
    if checks_answered > checks_asked:
        raise ValueError("checks_answered cannot exceed checks_asked")
    intervals = list(summary["intervals"]) if summary else []
    seconds = int(summary["seconds"]) if summary else 0
    # the scheduled time in µs; the ratios below are compared as exact integer products
    scheduled_us = _us(end) - _us(start)
    first_join = intervals[0][0] if intervals else None
    last_leave = intervals[-1][1] if intervals else None
    figures: dict[str, Any] = {
        "seconds": seconds,
        "scheduled_seconds": scheduled_us // _US,
        "ratio": round(seconds * _US / scheduled_us, 4),
        "first_join": first_join.isoformat() if first_join else None,
        "last_leave": last_leave.isoformat() if last_leave else None,
        "checks": {"asked": checks_asked, "answered": checks_answered},
    }

    def decision(status: str, rule: str) -> Decision:
        return Decision(status=status, figures={**figures, "rule": rule})

    if seconds <= 0 or first_join is None or last_leave is None:
        return decision("absent", "no_presence")
    presence = _exact(rules.min_presence_ratio)
    time_met = seconds * _US * presence.denominator >= presence.numerator * scheduled_us
    checks = _exact(rules.min_checks_ratio)
    checks_met = (
        checks_asked == 0 or checks_answered * checks.denominator >= checks.numerator * checks_asked
    )
    if time_met and checks_met:
        if first_join - start > timedelta(minutes=rules.late_after_minutes):
            return decision("late", "joined_late")
        return decision("present", "met")
    if not time_met:
        if end - last_leave > timedelta(minutes=rules.left_early_before_minutes):
            return decision("left_early", "left_early")
        return decision("absent", "too_little_time")
    return decision("absent", "checks_missed")


# --- Presence checks ----------------------------------------------------------------------------


def shorten_by_checks(
    summary: Mapping[str, Any] | None,
    checks: Iterable[tuple[datetime, datetime | None]],
    end: datetime,
) -> Summary | None:
    """Take away the credit a missed presence check puts in doubt.

    ``checks`` are one person's checks as ``(sent_at, answered_at or None)``. From each
    missed check's ``sent_at`` the person is not counted present until they first answer a
    later check (the earliest such ``answered_at``), or until ``end`` if they never do. The
    result's intervals lie inside the given ones, so browser signals can only shorten
    credit, never lengthen it; answering more checks never lowers it. None stays None."""
    if not summary:
        return None
    end = _aware(end, "end")
    ordered = sorted(
        ((_aware(sent, "sent_at"), answered) for sent, answered in checks), key=lambda c: c[0]
    )
    gaps: list[tuple[int, int]] = []
    for index, (sent, answered) in enumerate(ordered):
        if answered is not None:
            continue
        # back from the first answer to any later check (not the next answered check's
        # answer: a later check may be answered sooner, and an extra answer must never
        # lengthen the doubt)
        until = min(
            (
                max(_us(later_sent), _us(_aware(later_answered, "answered_at")))
                for later_sent, later_answered in ordered[index + 1 :]
                if later_answered is not None
            ),
            default=_us(end),
        )
        if until > _us(sent):
            gaps.append((_us(sent), until))
    intervals = [(_us(since), _us(until)) for since, until in summary["intervals"]]
    for gap_since, gap_until in gaps:
        kept: list[tuple[int, int]] = []
        for since, until in intervals:
            if until <= gap_since or since >= gap_until:
                kept.append((since, until))
                continue
            if since < gap_since:
                kept.append((since, gap_since))
            if until > gap_until:
                kept.append((gap_until, until))
        intervals = kept
    narrowed = _whole_seconds(intervals)  # as merge_presence gives them
    return {
        "seconds": sum(until - since for since, until in narrowed) // _US,
        "intervals": [(_at(since), _at(until)) for since, until in narrowed],
    }


# --- Presence from other sources ----------------------------------------------------------------


def union_intervals(
    intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The union of ``intervals`` (pairs of aware datetimes, in any order, overlapping or not),
    clipped to ``[start, end]`` and narrowed to whole seconds like ``merge_presence``'s rule 6
    (no gap is bridged: that rule is for reconnects). Sorted and disjoint; the total never
    exceeds the window, and the result does not depend on the order of ``intervals``.

    ``live.services`` unites a person's online intervals with their check-in at the centre."""
    start_us = _us(_aware(start, "start"))
    end_us = _us(_aware(end, "end"))
    if end_us <= start_us:
        raise ValueError("end must be after start")
    pieces = []
    for since, until in intervals:
        since_us = max(_us(_aware(since, "interval start")), start_us)
        until_us = min(_us(_aware(until, "interval end")), end_us)
        if until_us > since_us:
            pieces.append((since_us, until_us))
    merged: list[list[int]] = []
    for since, until in sorted(pieces):
        if merged and since <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], until)
        else:
            merged.append([since, until])
    return [(_at(since), _at(until)) for since, until in _whole_seconds(merged)]


def summary_of(intervals: list[tuple[datetime, datetime]]) -> Summary:
    """A ``merge_presence``-style summary of whole-second intervals (``union_intervals``)."""
    seconds = sum((until - since) // timedelta(seconds=1) for since, until in intervals)
    return {"seconds": seconds, "intervals": intervals}
