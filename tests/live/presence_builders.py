"""Webhook bodies for attendance tests, built from the documented samples in ``fixtures/``.

Times are seconds after ``START`` (2026-03-03 02:00 UTC, the samples' join time); JaaS bodies
carry milliseconds, prosody bodies seconds, exactly as the providers send them.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.live.conftest import load

START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
START_S = int(START.timestamp())
USER = "u-7f3c9a"  # the samples' context.user.id

_keys = itertools.count(1)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def jaas(
    event_type: str,
    seconds: float,
    *,
    user: str | None = USER,
    conn: str | None = "a1b2c3d4",
    reason: str | None = None,
    breakout: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A JaaS body shaped like the documented sample of its type."""
    sample = {
        "PARTICIPANT_JOINED": "jaas_participant_joined.json",
        "PARTICIPANT_LEFT": "jaas_participant_left.json",
        "ROOM_CREATED": "jaas_room_created.json",
        "ROOM_DESTROYED": "jaas_room_destroyed.json",
        "RECORDING_UPLOADED": "jaas_recording_uploaded.json",
    }[event_type]
    body = copy.deepcopy(load(sample))
    body["idempotencyKey"] = key or f"test-{next(_keys):08d}"
    body["timestamp"] = round((START_S + seconds) * 1000)
    data = body["data"]
    if event_type.startswith("PARTICIPANT"):
        if user is None:
            data.pop("id")
        else:
            data["id"] = user
        if conn is None:
            data.pop("participantId")
            data.pop("participantJid")
        else:
            data["participantId"] = conn
            data["participantJid"] = f"{conn}@meet.jitsi/res"
        if event_type == "PARTICIPANT_LEFT":
            data["disconnectReason"] = reason or "left"
    if breakout is not None:
        data["isBreakout"] = True
        data["breakoutRoomId"] = breakout
    return body


def prosody_joined(seconds: int, *, user: str = USER, conn: str = "14f01c40") -> dict[str, Any]:
    body = copy.deepcopy(load("prosody_occupant_joined.json"))
    body["occupant"].update(
        id=user, occupant_jid=f"{conn}@meet.example.org/x", joined_at=START_S + seconds
    )
    return body


def prosody_left(
    seconds: int,
    *,
    joined: int | None,
    user: str = USER,
    conn: str = "14f01c40",
    breakout: str | None = None,
) -> dict[str, Any]:
    body = copy.deepcopy(load("prosody_occupant_left.json"))
    occupant = body["occupant"]
    occupant.update(id=user, occupant_jid=f"{conn}@meet.example.org/x", left_at=START_S + seconds)
    if joined is None:
        occupant.pop("joined_at")
    else:
        occupant["joined_at"] = START_S + joined
    if breakout is not None:
        body.update(is_breakout=True, breakout_room_id=breakout)
    return body


def prosody_destroyed(seconds: int, occupants: list[dict[str, Any]] | None = None) -> dict:
    body = copy.deepcopy(load("prosody_room_destroyed.json"))
    body["destroyed_at"] = START_S + seconds
    body["all_occupants"] = occupants or []
    return body


def occupant(joined: int, left: int | None, *, user: str = USER, conn: str = "14f01c40") -> dict:
    entry = {
        "name": "learner",
        "email": "",
        "id": user,
        "occupant_jid": f"{conn}@meet.example.org/x",
        "joined_at": START_S + joined,
    }
    if left is not None:
        entry["left_at"] = START_S + left
    return entry
