"""1,000 attendee websockets on one lecture, one daphne process (one ASGI worker).

Measured, on the in-memory channel layer and on Redis (``REDIS_URL``, channels-redis with
the pool and capacity from ``config/settings.py``):

* **join storm**: 1,000 attendees open ``ws/live/<id>/`` at 100 per second (each with its own
  signed-in session and the site's origin); every handshake must complete and say hello;
* **memory per connection**: the server's resident set (``/proc/<pid>/status`` VmRSS) after
  all 1,000 minus before (after one warm-up connection), divided by 1,000 (target ≤ 40 KiB);
* **fan-out**: the lecturer's socket sends a presence check; the time from sending to each
  attendee's receipt, p99 over the 1,000 (target ≤ 1 s).

The naive baseline for the fan-out (``bench/live_ws_server.py``) stores the same check and
pushes it to each person's own group, one ``group_send`` per person, as
``lib.broadcast.send_to_user`` would; ours is one ``group_send`` to the lecture's group. Each
fan-out is run ``ROUNDS`` times and the best p99 kept (the machine is shared).

Needs daphne (a dependency) and the ``websockets`` client (a dev dependency); the Redis run
needs a server at ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/9``) and is skipped,
with a note, when none answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

from bench.common import (
    cpu_seconds,
    free_port,
    open_socket,
    percentile,
    redis_up,
    rss_kib,
    signed_in_session,
    start_daphne,
    stop_server,
)

ATTENDEES = int(os.environ.get("BENCH_ATTENDEES", "1000"))
JOIN_RATE = 100  # handshakes started per second
ROUNDS = 3
PREFIX = "WSB-"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
LOG = Path(os.environ.get("BENCH_LOG", "/tmp/bench_live_ws.log"))  # noqa: S108


# --- Data -----------------------------------------------------------------------------------


def _seed() -> tuple[int, list[str], str]:
    """(lecture id, attendee session keys, lecturer session key): a lecture under way for an
    office of ``ATTENDEES`` persons, each shown in the room by a stored join event."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from live.jitsi import participant_id
    from live.models import Lecture, PresenceCheck, PresenceEvent
    from live.services import do_resolve_audience
    from people.models import Office, Person, User

    now = timezone.now()
    with transaction.atomic():
        Lecture.objects.filter(title__startswith=PREFIX).update(
            end=now - dt.timedelta(seconds=1), start=now - dt.timedelta(hours=1)
        )
        office = Office.objects.filter(code="wsb-office").first() or Office.add_root(
            name="网络基准司法所", code="wsb-office", kind="office"
        )
        users = list(User.objects.filter(username__startswith="wsb-").order_by("username"))
        if len(users) < ATTENDEES:
            User.objects.filter(username__startswith="wsb-").delete()
            users = User.objects.bulk_create(
                [
                    User(username=f"wsb-{i:05d}", password=UNUSABLE_PASSWORD_PREFIX)
                    for i in range(ATTENDEES)
                ],
                batch_size=2000,
            )
            start = dt.date(2026, 1, 1)
            Person.objects.bulk_create(
                [
                    Person(
                        user=user,
                        case_number=f"{PREFIX}{i:05d}",
                        full_name=f"学员{i}",
                        office=office,
                        category="normal",
                        supervision_start=start,
                        supervision_end=start + dt.timedelta(days=365),
                    )
                    for i, user in enumerate(users)
                ],
                batch_size=2000,
            )
        users = users[:ATTENDEES]
        # the lecture's lecturer watches its roster; no role needed for that
        lecturer, _ = User.objects.get_or_create(username="wsb-lecturer-x")
        lecture = Lecture.objects.create(
            title=f"{PREFIX}讲座",
            lecturer=lecturer,
            start=now - dt.timedelta(minutes=5),
            end=now + dt.timedelta(hours=2),
        )
        lecture.audience_offices.add(office)
        do_resolve_audience(lecture, now)
        PresenceCheck.objects.filter(lecture__title__startswith=PREFIX).update(closed_at=now)
        joined = int((now - dt.timedelta(minutes=4)).timestamp() * 1000)
        PresenceEvent.objects.bulk_create(
            [
                PresenceEvent(
                    provider="jaas",
                    event_type="PARTICIPANT_JOINED",
                    room_name=lecture.room_name,
                    user_id=participant_id(user.pk),
                    occurred_at=now - dt.timedelta(minutes=4),
                    payload={
                        "idempotencyKey": f"wsb-{lecture.pk}-{user.pk}",
                        "eventType": "PARTICIPANT_JOINED",
                        "timestamp": joined,
                        "fqn": f"app/{lecture.room_name}",
                        "data": {"id": participant_id(user.pk), "participantId": f"c{user.pk}"},
                    },
                    dedupe_key=f"wsb-{lecture.pk}-{user.pk}",
                )
                for user in users
            ],
            batch_size=2000,
        )
        Session.objects.filter(session_key__startswith="wsbench").delete()
        expire = now + dt.timedelta(hours=3)
        keys = [f"wsbench{i:025d}" for i in range(ATTENDEES)]
        lecturer_key = "wsbenchlecturer0000000000000000"
        Session.objects.bulk_create(
            [signed_in_session(key, user, expire) for key, user in zip(keys, users, strict=True)]
            + [signed_in_session(lecturer_key, lecturer, expire)],
            batch_size=2000,
        )
    return lecture.pk, keys, lecturer_key


def _close_checks() -> None:
    from django.utils import timezone

    from live.models import PresenceCheck

    PresenceCheck.objects.filter(closed_at__isnull=True).update(closed_at=timezone.now())


# --- Scenario -------------------------------------------------------------------------------


async def _scenario(port: int, server_pid: int, lecture: int, keys, lecturer_key) -> dict:
    import json

    base = f"ws://127.0.0.1:{port}"
    warm = await open_socket(f"{base}/ws/live/{lecture}/", port, keys[0])
    await warm.close()
    await asyncio.sleep(1)
    rss_before = rss_kib(server_pid)

    # join storm: one handshake started every 1/JOIN_RATE s
    socks: list = [None] * len(keys)
    failures = 0
    handshake: list[float] = []

    async def join(i: int, key: str) -> None:
        nonlocal failures
        await asyncio.sleep(i / JOIN_RATE)
        began = time.perf_counter()
        try:
            socks[i] = await open_socket(f"{base}/ws/live/{lecture}/", port, key)
            handshake.append(time.perf_counter() - began)
        except Exception as error:
            failures += 1
            if failures <= 3:
                print(f"handshake {i} failed: {error!r}", file=sys.stderr)  # noqa: T201

    storm_began = time.perf_counter()
    cpu_began = cpu_seconds(server_pid)
    await asyncio.gather(*(join(i, key) for i, key in enumerate(keys)))
    storm = time.perf_counter() - storm_began
    storm_cpu = cpu_seconds(server_pid) - cpu_began
    await asyncio.sleep(2)
    rss_after = rss_kib(server_pid)
    live = [s for s in socks if s is not None]

    async def fan_out(path: str) -> list[float]:
        await asyncio.to_thread(_close_checks)
        lecturer = await open_socket(f"{base}{path}", port, lecturer_key)
        # drain the roster and the attendees' announcements
        try:
            while True:
                await asyncio.wait_for(lecturer.recv(), 3)
        except TimeoutError:
            pass
        received: list[float] = []

        async def wait_check(sock) -> None:
            import websockets

            try:
                while True:
                    message = json.loads(await sock.recv())
                    if message.get("type") == "check":
                        received.append(time.perf_counter())
                        return
            except websockets.ConnectionClosed:
                return  # not delivered: counts as infinitely late below

        waiting = [asyncio.create_task(wait_check(s)) for s in live]
        sent = time.perf_counter()
        await lecturer.send(json.dumps({"type": "check.send"}))
        try:
            await asyncio.wait_for(asyncio.gather(*waiting), 60)
        except TimeoutError:
            pass
        await lecturer.close()
        late = [float("inf")] * (len(live) - len(received))
        return sorted(at - sent for at in received) + late

    results = {}
    for name, path in (("ours", f"/ws/live/{lecture}/"), ("naive", f"/ws/bench-naive/{lecture}/")):
        best = None
        for _ in range(ROUNDS):
            latencies = await fan_out(path)
            p99 = percentile(latencies, 0.99)
            if best is None or p99 < best[0]:
                best = (p99, latencies[len(latencies) // 2], len(latencies))
        results[name] = best
    for s in live:
        await s.close()
    return {
        "failures": failures,
        "connected": len(live),
        "storm_seconds": storm,
        "server_cpu_ms_per_handshake": storm_cpu * 1000 / len(keys),
        "handshake_p99": percentile(sorted(handshake), 0.99) if handshake else 0,
        "kib_per_connection": (rss_after - rss_before) / max(1, len(live)),
        "rss_before_mib": rss_before / 1024,
        "rss_after_mib": rss_after / 1024,
        **results,
    }


def _one(layer: str, redis_url: str | None) -> list[dict]:
    lecture, keys, lecturer_key = _seed()
    port = free_port()
    server = start_daphne("bench.live_ws_server:application", port, redis_url, LOG)
    try:
        found = asyncio.run(_scenario(port, server.pid, lecture, keys, lecturer_key))
    finally:
        stop_server(server)
    load = os.getloadavg()[0]
    print(f"bench_live_ws {layer}: {found}", file=sys.stderr)  # noqa: T201
    note = (
        f"{found['connected']}/{ATTENDEES} connected, {found['failures']} failed handshakes "
        f"(storm {found['storm_seconds']:.1f} s, handshake p99 {found['handshake_p99'] * 1000:.0f}"
        f" ms, server CPU {found['server_cpu_ms_per_handshake']:.1f} ms each);"
        f" {found['kib_per_connection']:.1f} KiB/conn (RSS {found['rss_before_mib']:.0f}"
        f" → {found['rss_after_mib']:.0f} MiB); median {found['ours'][1] * 1000:.0f} ms vs "
        f"{found['naive'][1] * 1000:.0f} ms; load {load:.1f}"
    )
    return [
        {
            "name": f"ws fan-out p99, 1,000 sockets ({layer})",
            "ours": found["ours"][0],
            "naive": found["naive"][0],
            "note": note,
        }
    ]


def run() -> list[dict]:
    rows = _one("in-memory", None)
    if redis_up(REDIS_URL):
        rows += _one("redis", REDIS_URL)
    else:
        rows.append(
            {
                "name": "ws fan-out (redis)",
                "ours": 0,
                "naive": 0,
                "note": f"no Redis at {REDIS_URL}",
            }
        )
    return rows
