"""The video server's events for roll-call rooms (registered with ``live.rooms``).

``live`` verifies and stores every webhook event (one row per dedupe key, so a replay is never
stored twice); for a ``rollcall-…`` room it asks ``check_event`` first and calls
``on_event_stored`` after commit. ``do_update_from_events`` then recomputes the target from
*all* the room's stored events (``live.attendance.merge_read``, the same merge as a lecture's),
so the outcome depends only on which events exist, never on how often or in which order
they arrived.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from live.attendance import merge_read
from live.models import PresenceEvent
from live.rooms import RoomOwner
from live.services import PARTICIPANT_EVENTS, read_room_events
from live.webhooks import ParsedEvent, UnknownParticipant, UnknownRoom
from rollcall import decide as rules_decide
from rollcall.models import ROOM_PREFIX, RollCallTarget, TargetState
from rollcall.services import push_board, resolve_follow_up, rules_of_version

# presence is read from a little before the ring (clock skew between the servers)
EARLY = dt.timedelta(seconds=60)
# a connection still open at the end of the window is "still in the room"
STILL_THERE = dt.timedelta(seconds=2)


def owns(room_name: str) -> bool:
    return room_name.startswith(ROOM_PREFIX)


def check_event(parsed: ParsedEvent, now: dt.datetime) -> None:
    """Accept an authentic event of a roll-call room, or refuse it (422 with the reason):
    a room no call has, a call that is over (excused, not possible, or missed and the event
    happened after the room closed), a participant who is neither the person nor a member of
    staff given a token for the room."""
    target = RollCallTarget.objects.filter(room_name=parsed["room_name"]).first()
    if target is None:
        raise UnknownRoom("unknown roll-call room")
    over = target.state in (TargetState.EXCUSED, TargetState.NOT_POSSIBLE) or (
        target.state == TargetState.MISSED and parsed["occurred_at"] >= target.closes_at
    )
    if over:
        raise UnknownRoom("roll-call is over")
    if parsed["event_type"] not in PARTICIPANT_EVENTS:
        return
    user_id = parsed["user_id"]
    if not user_id:
        raise UnknownParticipant("participant event without a user id")
    if user_id != target.participant_id and user_id not in target.staff_participants:
        raise UnknownParticipant("unknown user id")


def on_event_stored(event: PresenceEvent) -> None:
    do_update_from_events(event.room_name)


ROOM_OWNER = RoomOwner(name="rollcall", owns=owns, check=check_event, on_stored=on_event_stored)


def do_update_from_events(room_name: str, now: dt.datetime | None = None) -> RollCallTarget | None:
    """Bring the room's target up to date from every stored event: joined (with the first
    join and, once the person left, the last leave), the result by the target's policy
    version, or missed once the room has closed without a join. Safe to run any number of
    times. Returns the target, or None for a room no call has."""
    now = now or timezone.now()
    with transaction.atomic():
        target = (
            RollCallTarget.objects.select_for_update()
            .select_related("call", "person")
            .filter(room_name=room_name)
            .first()
        )
        if target is None or target.state in (TargetState.EXCUSED, TargetState.NOT_POSSIBLE):
            return target
        rules = rules_of_version(target.policy_version)
        # to the room's close at least: a connection open then counts as still there
        start = target.rung_at - EARLY
        end = max(now, target.closes_at)
        presence = merge_read(read_room_events(room_name), start, end).get(target.participant_id)
        intervals = presence["intervals"] if presence else []
        first_join = intervals[0][0] if intervals else None
        left_at = None
        if intervals and intervals[-1][1] < end - STILL_THERE:
            left_at = intervals[-1][1]
        result = rules_decide.decide(
            first_join=first_join,
            rung_at=target.rung_at,
            now=now,
            rules=rules,
            confirmation=target.confirmation,
        )
        before = (target.state, target.result, target.joined_at, target.left_at)
        if first_join is not None and first_join < target.closes_at:
            if target.state in (TargetState.RINGING, TargetState.MISSED):
                target.state = TargetState.JOINED
            target.joined_at, target.left_at = first_join, left_at
            target.result = result or ""
        elif result == rules_decide.MISSED and target.state == TargetState.RINGING:
            target.state = TargetState.MISSED
            target.result = result
        changed = (target.state, target.result, target.joined_at, target.left_at) != before
        if changed:
            target.save(update_fields=["state", "result", "joined_at", "left_at"])
            if before[1] == rules_decide.MISSED and target.result != rules_decide.MISSED:
                resolve_follow_up(target, "met", now)
            push_board(target)
    return target
