"""Attendance recompute for a 1,000-person lecture with 10 events each (10,000 stored
``PresenceEvent`` rows, JaaS bodies, stored in shuffled arrival order).

Ours: one query for the room's raw bodies, then ``live.attendance.merge_presence``.
Naive baseline: walk the stored events one by one through the ORM and, for every leave,
query the same participant's latest join before it (a webhook handler that pairs each leave
with its join as it comes, with no interval logic): one query per leave, 5,000 in all. It
knows nothing of reconnects, switches, missing leaves or gaps; the data is chosen so that
both give the same seconds, which the benchmark checks.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bench.common import best_of

PERSONS = 1000
SITTINGS = 5  # a join and a leave each: 10 events per person
ROOM = "bench-attendance-0123456789abcdef"
APP_ID = "vpaas-magic-cookie-00000000000000000000000000000000"
START = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
SITTING = timedelta(minutes=20)
BREAK = timedelta(minutes=4)  # longer than the 90 s bridge, so no rule differs


def _body(kind: str, user: str, conn: str, at: datetime, key: str) -> dict:
    data = {
        "moderator": False,
        "name": user,
        "group": "",
        "id": user,
        "participantJid": f"{conn}@meet.jitsi/x",
        "participantId": conn,
    }
    if kind == "PARTICIPANT_LEFT":
        data["disconnectReason"] = "left"
    return {
        "idempotencyKey": key,
        "customerId": "00000000000000000000000000000000",
        "appId": APP_ID,
        "sessionId": "bench-session",
        "fqn": f"{APP_ID}/{ROOM}",
        "eventType": kind,
        "timestamp": int(at.timestamp() * 1000),
        "data": data,
    }


def _setup() -> None:
    from live.models import PresenceEvent

    if PresenceEvent.objects.filter(room_name=ROOM).exists():
        return
    rows = []
    for person in range(PERSONS):
        user = f"bench{person:04d}"
        for sitting in range(SITTINGS):
            joined = START + sitting * (SITTING + BREAK) + timedelta(seconds=person % 60)
            conn = f"{person:04d}{sitting}"
            for kind, at in (
                ("PARTICIPANT_JOINED", joined),
                ("PARTICIPANT_LEFT", joined + SITTING),
            ):
                key = f"bench-{person}-{sitting}-{kind[12]}"
                rows.append(
                    PresenceEvent(
                        provider="jaas",
                        event_type=kind,
                        room_name=ROOM,
                        user_id=user,
                        occurred_at=at,
                        payload=_body(kind, user, conn, at, key),
                        dedupe_key=f"jaas:{key}",
                    )
                )
    random.Random(2026).shuffle(rows)  # webhooks arrive out of order
    PresenceEvent.objects.bulk_create(rows, batch_size=1000)


def run() -> list[dict]:
    from live.attendance import merge_presence
    from live.models import PresenceEvent

    _setup()

    def ours() -> dict[str, int]:
        bodies = list(
            PresenceEvent.objects.filter(room_name=ROOM).values_list("payload", flat=True)
        )
        return {u: s["seconds"] for u, s in merge_presence(bodies, START, END).items()}

    def naive() -> dict[str, int]:
        seconds: dict[str, int] = defaultdict(int)
        for event in PresenceEvent.objects.filter(room_name=ROOM).order_by("received_at", "id"):
            if event.event_type != "PARTICIPANT_LEFT":
                continue
            join = (
                PresenceEvent.objects.filter(
                    room_name=ROOM,
                    user_id=event.user_id,
                    event_type="PARTICIPANT_JOINED",
                    occurred_at__lte=event.occurred_at,
                )
                .order_by("-occurred_at")
                .first()
            )
            if join is not None:
                since, until = max(join.occurred_at, START), min(event.occurred_at, END)
                seconds[event.user_id] += max(0, int((until - since).total_seconds()))
        return dict(seconds)

    expected = ours()
    assert len(expected) == PERSONS
    assert set(expected.values()) == {SITTINGS * int(SITTING.total_seconds())}, expected
    assert naive() == expected

    bodies = list(PresenceEvent.objects.filter(room_name=ROOM).values_list("payload", flat=True))
    began = time.perf_counter()
    merge_presence(bodies, START, END)
    merge_only = time.perf_counter() - began
    return [
        {
            "name": f"attendance recompute ({PERSONS:,} persons, {len(bodies):,} events)",
            "ours": best_of(ours),
            "naive": best_of(naive, repeat=1),
            "note": f"1 query + merge_presence (merge alone {merge_only * 1000:.0f} ms) "
            "vs a query per leave",
        }
    ]
