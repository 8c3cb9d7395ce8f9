"""A group roll-call of 200 persons on one daphne process (one ASGI worker), issue #21.

Measured, on the in-memory channel layer and on Redis (as ``bench_live_ws``):

* **handshakes**: the 200 learners open ``ws/me/`` at 100 a second (each with their own
  signed-in session and the site's origin), and the officer the call's board
  ``ws/rollcall/<id>/``; every handshake must complete (target 0 failed); memory per learner
  socket (VmRSS after minus before, over 200);
* **ring**: the officer starts one group call of the office through the real form post
  (``POST /admin/rollcall/start/``, session past the second step, CSRF token); per person the
  time from sending that request to the ``rollcall.ring`` message on their socket (target
  p99 ≤ 2 s); the request's own time, and the access-log rows and notifications it wrote;
* **board**: each person's join through the real webhooks (half JaaS with a signed body,
  half prosody with the bearer token), 8 at a time; per event the time from the webhook's
  answer (and from its sending) to the board socket's row for that person turning
  ``joined`` (target p99 ≤ 1 s); then the officer's confirmation of each (``POST
  …/targets/<id>/confirm/``, 4 at a time) to the row turning ``confirmed``;
* the server's CPU per phase, and, on the first layer only, the start's query count at 200
  persons (the same view through Django's test client in this process).

The naive baseline for the ring (``bench/live_ws_server.py``, ``ws/bench-naive-rollcall/``)
rings the same 200 one after another, a one-person call each in its own transaction. The
board has no honest naive baseline: one officer's socket on one call's group is already the
plain design, and an event's path (store, recompute the target, one push after commit) is
the same one as a single call's.

The video server is a stub answering ``JITSI_MUC_SIZE_URL``'s health probe (404: up), so the
start asks it as in production. Needs daphne and the ``websockets`` client; the Redis run
needs a server at ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/9``) and is skipped,
with a note, when none answers. ``BENCH_PERSONS`` (default 200), ``BENCH_LOG``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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

PERSONS = int(os.environ.get("BENCH_PERSONS", "200"))
JOIN_RATE = 100  # learner handshakes started per second
EVENT_CLIENTS = 8  # webhook posts in flight at once
CONFIRM_CLIENTS = 4
RING_TARGET, BOARD_TARGET = 2.0, 1.0  # seconds, p99
PREFIX = "RCB-"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
LOG = Path(os.environ.get("BENCH_LOG", "/tmp/bench_rollcall.log"))  # noqa: S108
JAAS_SECRET = "whsec_bench_rollcall_0123456789abcdef"  # noqa: S105 - the bench server's own
PROSODY_TOKEN = "bench-rollcall-prosody-token"  # noqa: S105
OFFICER_KEY = "rcbenchofficer00000000000000000"


# --- Data -----------------------------------------------------------------------------------


def _seed() -> dict:
    """An office of ``PERSONS`` active persons with accounts and signed-in sessions, and its
    officer (session past the second step); earlier bench calls of the office removed."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.contrib.auth.models import Group
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from people.models import Office, Person, User
    from people.roles import Role
    from rollcall.models import RollCall, RollCallTarget

    now = timezone.now()
    with transaction.atomic():
        office = Office.objects.filter(code="rcb-office").first() or Office.add_root(
            name="点验基准司法所", code="rcb-office", kind="office"
        )
        RollCallTarget.objects.filter(person__office=office).delete()
        RollCall.objects.filter(office=office).delete()
        users = list(User.objects.filter(username__startswith="rcb-p").order_by("username"))
        if len(users) != PERSONS:
            Person.objects.filter(office=office).delete()
            User.objects.filter(username__startswith="rcb-p").delete()
            users = User.objects.bulk_create(
                [
                    User(username=f"rcb-p{i:05d}", password=UNUSABLE_PASSWORD_PREFIX)
                    for i in range(PERSONS)
                ],
                batch_size=2000,
            )
            Group.objects.get(name=Role.LEARNER).user_set.add(*users)
            start = dt.date(2026, 1, 1)
            Person.objects.bulk_create(
                [
                    Person(
                        user=user,
                        case_number=f"{PREFIX}{i:05d}",
                        full_name=f"点验{i}",
                        office=office,
                        category="normal",
                        supervision_start=start,
                        supervision_end=start + dt.timedelta(days=730),
                    )
                    for i, user in enumerate(users)
                ],
                batch_size=2000,
            )
        officer = User.objects.filter(username="rcb-officer").first()
        if officer is None:
            officer = User.objects.create(
                username="rcb-officer", password=UNUSABLE_PASSWORD_PREFIX, office=office
            )
            officer.groups.add(Group.objects.get(name=Role.OFFICER))
        device = TOTPDevice.objects.filter(user=officer, confirmed=True).first()
        device = device or TOTPDevice.objects.create(
            user=officer, name="authenticator", confirmed=True
        )
        Session.objects.filter(session_key__startswith="rcbench").delete()
        expire = now + dt.timedelta(hours=3)
        keys = [f"rcbench{i:025d}" for i in range(PERSONS)]
        Session.objects.bulk_create(
            [signed_in_session(key, user, expire) for key, user in zip(keys, users, strict=True)]
            + [
                signed_in_session(
                    OFFICER_KEY, officer, expire, {DEVICE_ID_SESSION_KEY: device.persistent_id}
                )
            ],
            batch_size=2000,
        )
    return {"office": office.pk, "officer": officer.pk, "keys": keys}


def _counts() -> tuple[int, int]:
    from audit.models import AccessEvent
    from notifications.models import Notification

    return AccessEvent.objects.count(), Notification.objects.count()


def _targets(call_id: int) -> list[tuple[int, str, str]]:
    """(target, room, participant id) of the call."""
    from rollcall.models import RollCallTarget

    return list(
        RollCallTarget.objects.filter(call_id=call_id)
        .order_by("pk")
        .values_list("pk", "room_name", "participant_id")
    )


def _close_office_calls(office: int) -> None:
    """Every call of the office's persons over (excused), so the next start may ring them."""
    from rollcall.models import RollCallTarget

    RollCallTarget.objects.filter(person__office_id=office).update(state="excused")


# --- The video server's stub and the webhook bodies -----------------------------------------


class _VideoServer(http.server.BaseHTTPRequestHandler):
    """``mod_muc_size``'s ``/room`` for a room nobody is in: 404, which means "up"."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _video_stub() -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _VideoServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _join_request(i: int, room: str, participant: str) -> tuple[str, bytes, dict]:
    """(path, body, headers) of a join as JaaS (even ``i``, signed) or prosody (odd) sends it."""
    from live.webhooks import jaas_signature_header

    now = time.time()
    if i % 2 == 0:
        body = json.dumps(
            {
                "idempotencyKey": str(uuid.uuid4()),
                "customerId": "c0ffee",
                "appId": "vpaas-magic-cookie-bench",
                "fqn": f"vpaas-magic-cookie-bench/{room}",
                "eventType": "PARTICIPANT_JOINED",
                "timestamp": int(now * 1000),
                "data": {"id": participant, "participantId": f"conn-{i}"},
            }
        ).encode()
        header = jaas_signature_header(JAAS_SECRET, int(now), body)
        return "/live/hooks/jaas/", body, {"X-Jaas-Signature": header}
    body = json.dumps(
        {
            "event_name": "muc-occupant-joined",
            "room_name": room,
            "room_jid": f"{room}@conference.meet.example.org",
            "occupant": {
                "id": participant,
                "name": "x",
                "occupant_jid": f"{room}@conference.meet.example.org/c{i}",
                "joined_at": int(now),
            },
        }
    ).encode()
    return "/live/hooks/prosody/", body, {"Authorization": f"Bearer {PROSODY_TOKEN}"}


# --- HTTP -----------------------------------------------------------------------------------


class _Officer:
    """The officer's browser: session cookie, the CSRF token from the roll-call page."""

    def __init__(self, base: str):
        import requests
        from django.conf import settings

        self.base = base
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, OFFICER_KEY)
        page = self.http.get(f"{base}/admin/rollcall/", timeout=60)
        if page.status_code != 200:
            raise RuntimeError(f"roll-call page: {page.status_code}")
        self.token = self.http.cookies[settings.CSRF_COOKIE_NAME]

    def post(self, path: str, data: dict):
        return self.http.post(
            f"{self.base}{path}",
            data=data,
            headers={"X-CSRFToken": self.token, "Referer": f"{self.base}/admin/rollcall/"},
            allow_redirects=False,
            timeout=120,
        )


# --- Scenario -------------------------------------------------------------------------------


def _spread(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 0.5),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else float("nan"),
    }


async def _scenario(port: int, pid: int, seeded: dict) -> dict:
    import requests

    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    keys = seeded["keys"]
    found: dict = {}
    warm = await open_socket(f"{ws}/ws/me/", port, keys[0])
    await warm.close()
    officer = await asyncio.to_thread(_Officer, base)
    await asyncio.sleep(1)

    # 200 learners' sockets, each read for good: (time, message) per socket
    inbox: list[list[tuple[float, dict]]] = [[] for _ in keys]
    socks: list = [None] * len(keys)
    failures = 0

    async def listen(sock, into: list) -> None:
        import websockets

        try:
            async for text in sock:
                into.append((time.perf_counter(), json.loads(text)))
        except websockets.ConnectionClosed:
            return

    async def join(i: int, key: str) -> None:
        nonlocal failures
        await asyncio.sleep(i / JOIN_RATE)
        try:
            socks[i] = await open_socket(f"{ws}/ws/me/", port, key)
        except Exception as error:
            failures += 1
            if failures <= 3:
                print(f"handshake {i} failed: {error!r}", file=sys.stderr)  # noqa: T201

    rss_before, cpu = rss_kib(pid), cpu_seconds(pid)
    await asyncio.gather(*(join(i, key) for i, key in enumerate(keys)))
    found["handshake_cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000 / len(keys)
    await asyncio.sleep(2)
    live = [i for i, s in enumerate(socks) if s is not None]
    found["kib_per_socket"] = (rss_kib(pid) - rss_before) / max(1, len(live))
    readers = [asyncio.create_task(listen(socks[i], inbox[i])) for i in live]

    # --- ours: one group call through the form post
    log_rows, notes = await asyncio.to_thread(_counts)
    cpu = cpu_seconds(pid)
    sent = time.perf_counter()
    response = await asyncio.to_thread(
        officer.post, "/admin/rollcall/start/", {"office": seeded["office"]}
    )
    answered = time.perf_counter()
    if response.status_code != 302 or "/calls/" not in response.headers["Location"]:
        raise RuntimeError(f"start: {response.status_code} {response.headers}")
    call_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    await asyncio.sleep(RING_TARGET * 3)
    found["start_request_s"] = answered - sent
    found["start_cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000
    log_after, notes_after = await asyncio.to_thread(_counts)
    found["access_rows"], found["notifications"] = log_after - log_rows, notes_after - notes

    def rings_after(began: float) -> list[float]:
        times = []
        for i in live:
            at = [t for t, m in inbox[i] if m.get("type") == "rollcall.ring" and t >= began]
            times.append(at[0] - began if at else float("inf"))
        return times

    found["ring"] = _spread(rings_after(sent))

    # --- the board: the officer's socket on the call
    board_log: list[tuple[float, dict]] = []
    try:
        board = await open_socket(f"{ws}/ws/rollcall/{call_id}/", port, OFFICER_KEY)
        board_failed = 0
    except Exception as error:
        print(f"board handshake failed: {error!r}", file=sys.stderr)  # noqa: T201
        board, board_failed = None, 1
    found["handshakes_failed"] = failures + board_failed
    found["connected"] = len(live)
    if board is None:
        return found
    board_reader = asyncio.create_task(listen(board, board_log))
    await asyncio.sleep(2)  # the rows as they are now
    targets = await asyncio.to_thread(_targets, call_id)

    def post_join(i: int, room: str, participant: str, session) -> tuple[float, float, int]:
        path, body, headers = _join_request(i, room, participant)
        began = time.perf_counter()
        reply = session.post(f"{base}{path}", data=body, headers=headers, timeout=120)
        return began, time.perf_counter(), reply.status_code

    def board_times(state: str, posted: dict[int, tuple[float, float, int]]) -> dict:
        first: dict[int, float] = {}
        for t, row in board_log:
            if row.get("state") == state and row.get("target") in posted:
                first.setdefault(row["target"], t)
        after_answer = [first.get(pk, float("inf")) - posted[pk][1] for pk in posted]
        after_send = [first.get(pk, float("inf")) - posted[pk][0] for pk in posted]
        in_order = [
            lag
            for _, lag in sorted(zip((posted[pk][0] for pk in posted), after_answer, strict=True))
        ]
        quarter = max(1, len(in_order) // 4)
        return {
            # a queue that builds up shows as a lag growing from the first to the last quarter
            "quarters_p50": [
                _spread(in_order[i : i + quarter])["p50"] for i in range(0, len(in_order), quarter)
            ],
            "after_answer": _spread(after_answer),
            "after_send": _spread(after_send),
            "request": _spread([posted[pk][1] - posted[pk][0] for pk in posted]),
            "not_ok": sum(1 for pk in posted if posted[pk][2] not in (200, 302)),
        }

    def run_pool(clients: int, work) -> tuple[dict, float]:
        sessions = [requests.Session() for _ in range(clients)]
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            futures = {
                pk: pool.submit(work, n, pk, room, participant, sessions[n % clients])
                for n, (pk, room, participant) in enumerate(targets)
            }
            done = {pk: future.result() for pk, future in futures.items()}
        return done, time.perf_counter() - began

    cpu = cpu_seconds(pid)
    joins, took = await asyncio.to_thread(
        run_pool,
        EVENT_CLIENTS,
        lambda n, pk, room, participant, session: post_join(n, room, participant, session),
    )
    await asyncio.sleep(BOARD_TARGET * 3)
    found["joins"] = {
        **board_times("joined", joins),
        "rate": len(joins) / took,
        "cpu_ms": (cpu_seconds(pid) - cpu) * 1000 / len(joins),
    }

    def post_confirm(n: int, pk: int, room: str, participant: str, session) -> tuple:
        began = time.perf_counter()
        reply = officer.post(f"/admin/rollcall/targets/{pk}/confirm/", {"confirmation": "seen"})
        return began, time.perf_counter(), reply.status_code

    cpu = cpu_seconds(pid)
    confirms, took = await asyncio.to_thread(run_pool, CONFIRM_CLIENTS, post_confirm)
    await asyncio.sleep(BOARD_TARGET * 3)
    found["confirms"] = {
        **board_times("confirmed", confirms),
        "rate": len(confirms) / took,
        "cpu_ms": (cpu_seconds(pid) - cpu) * 1000 / len(confirms),
    }
    board_reader.cancel()
    await board.close()

    # --- naive: the same persons rung one call after another
    await asyncio.to_thread(_close_office_calls, seeded["office"])
    naive = await open_socket(f"{ws}/ws/bench-naive-rollcall/", port, OFFICER_KEY)
    cpu = cpu_seconds(pid)
    sent = time.perf_counter()
    await naive.send(json.dumps({"type": "start", "office": seeded["office"]}))
    reply = json.loads(await asyncio.wait_for(naive.recv(), 300))
    found["naive_start_s"] = time.perf_counter() - sent
    await asyncio.sleep(RING_TARGET * 3)
    found["naive_cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000
    found["naive_calls"] = reply.get("calls")
    found["naive_ring"] = _spread(rings_after(sent))
    await naive.close()
    for reader in readers:
        reader.cancel()
    for i in live:
        await socks[i].close()
    await asyncio.to_thread(_close_office_calls, seeded["office"])
    return found


def _start_queries(seeded: dict, video_url: str) -> tuple[int, float]:
    """The start view's queries and time at ``PERSONS``, through Django's test client in this
    process (nobody listens to its pushes)."""
    from django.db import connection
    from django.test import Client, override_settings

    from people.models import User

    officer = User.objects.get(pk=seeded["officer"])
    client = Client()
    client.force_login(officer)
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=officer).persistent_id
    session.save()
    queries: list[str] = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    _close_office_calls(seeded["office"])
    with override_settings(JITSI_MUC_SIZE_URL=video_url), connection.execute_wrapper(counted):
        began = time.perf_counter()
        response = client.post("/admin/rollcall/start/", {"office": seeded["office"]})
        took = time.perf_counter() - began
    if response.status_code != 302:
        raise RuntimeError(f"start in process: {response.status_code}")
    _close_office_calls(seeded["office"])
    return len(queries), took


def _one(layer: str, redis_url: str | None, *, count_queries: bool) -> tuple[list[dict], dict]:
    seeded = _seed()
    stub, video_url = _video_stub()
    port = free_port()
    env = {
        "JITSI_MUC_SIZE_URL": video_url,
        "JAAS_WEBHOOK_SECRET": JAAS_SECRET,
        "PROSODY_WEBHOOK_TOKEN": PROSODY_TOKEN,
    }
    load_before = os.getloadavg()
    server = start_daphne("bench.live_ws_server:application", port, redis_url, LOG, env)
    try:
        found = asyncio.run(_scenario(port, server.pid, seeded))
    finally:
        stop_server(server)
    found["load"] = (load_before[0], os.getloadavg()[0])
    if count_queries:
        found["start_queries"], found["start_in_process_s"] = _start_queries(seeded, video_url)
    stub.shutdown()
    print(f"bench_rollcall {layer}: {json.dumps(found, default=str)}", file=sys.stderr)  # noqa: T201
    if "joins" not in found:
        return [], found
    load = f"load {found['load'][0]:.1f}→{found['load'][1]:.1f}"
    ring, naive = found["ring"], found["naive_ring"]
    joins, confirms = found["joins"], found["confirms"]
    rows = [
        {
            "name": f"roll-call ring p99, {PERSONS} persons ({layer})",
            "ours": ring["p99"],
            "naive": naive["p99"],
            "note": (
                f"{found['connected']}/{PERSONS} sockets + board, "
                f"{found['handshakes_failed']} failed handshakes, "
                f"{found['kib_per_socket']:.1f} KiB/socket; ring p50 {ring['p50'] * 1000:.0f} ms,"
                f" max {ring['max'] * 1000:.0f} ms (naive p50 {naive['p50'] * 1000:.0f} ms); "
                f"start request {found['start_request_s'] * 1000:.0f} ms, "
                f"{found['start_cpu_ms']:.0f} ms server CPU, {found['access_rows']} access rows, "
                f"{found['notifications']} notifications; {load}"
            ),
        },
        {
            "name": f"roll-call board after join, p99 ({layer})",
            "ours": joins["after_answer"]["p99"],
            "naive": None,
            "note": (
                f"p50 {joins['after_answer']['p50'] * 1000:.0f} ms, max "
                f"{joins['after_answer']['max'] * 1000:.0f} ms; from sending "
                f"p99 {joins['after_send']['p99'] * 1000:.0f} ms; webhook p50 "
                f"{joins['request']['p50'] * 1000:.0f} ms, {joins['rate']:.0f} events/s, "
                f"{joins['cpu_ms']:.1f} ms CPU each, {joins['not_ok']} refused; p50 by quarter "
                + " / ".join(f"{q * 1000:.0f}" for q in joins["quarters_p50"])
                + " ms"
            ),
        },
        {
            "name": f"roll-call board after confirm, p99 ({layer})",
            "ours": confirms["after_answer"]["p99"],
            "naive": None,
            "note": (
                f"from sending p99 {confirms['after_send']['p99'] * 1000:.0f} ms; request p50 "
                f"{confirms['request']['p50'] * 1000:.0f} ms, {confirms['cpu_ms']:.1f} ms CPU "
                f"each, {confirms['not_ok']} refused"
            ),
        },
    ]
    return rows, found


def run() -> list[dict]:
    rows, _ = _one("in-memory", None, count_queries=True)
    if redis_up(REDIS_URL):
        rows += _one("redis", REDIS_URL, count_queries=False)[0]
    else:
        rows.append(
            {"name": "roll-call (redis)", "ours": 0, "naive": 0, "note": f"no Redis at {REDIS_URL}"}
        )
    return rows
