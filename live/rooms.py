"""Rooms on the video server that are not lectures: a registry filled by the apps above.

``live``'s event intake (``live.services.check_presence_event``,
``do_store_presence_event``, the webhook views) knows lecture rooms. Another app that opens
rooms on the same Jitsi server (``rollcall``: one-to-one roll-call rooms) registers a
``RoomOwner`` in its ``AppConfig.ready()``, so its rooms' events are verified, stored once (the
same dedupe keys) and handed to it, without ``live`` importing it.

An owner says by name whether a room is its own (``owns``: cheap, e.g. a prefix), checks an
authentic event (``check``: raise ``live.webhooks.UnknownRoom`` for a room it does not know
or a call that is over, ``UnknownParticipant`` for a stranger, both answered 422 with the
reason, nothing stored) and is told about each newly stored event after commit
(``on_stored``; a replay is not stored again, so it is never told twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from live.models import PresenceEvent
from live.webhooks import ParsedEvent


@dataclass(frozen=True)
class RoomOwner:
    name: str
    owns: Callable[[str], bool]
    check: Callable[[ParsedEvent, dt.datetime], None]
    on_stored: Callable[[PresenceEvent], None]


OWNERS: dict[str, RoomOwner] = {}


def register_room_owner(owner: RoomOwner) -> None:
    """Register (or replace, by name) an owner of rooms."""
    OWNERS[owner.name] = owner


def owner_of(room_name: str) -> RoomOwner | None:
    """The registered owner of ``room_name``, or None (a lecture's room, or nobody's)."""
    for owner in OWNERS.values():
        if owner.owns(room_name):
            return owner
    return None
