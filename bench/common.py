"""Helpers shared by the benchmarks."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


# --- A daphne server and websocket clients (bench_live_ws, bench_rollcall) --------------------

ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT = 30  # daphne's --websocket_connect_timeout (its default is 5 s)


def percentile(ordered: list[float], share: float) -> float:
    """The value at ``share`` (0.5, 0.99) of an ascending list, as the benches read p99."""
    if not ordered:
        return float("nan")
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_daphne(
    application: str, port: int, redis_url: str | None, log: Path, env: dict | None = None
) -> subprocess.Popen:
    """Daphne serving ``application`` (``module:attribute``) on 127.0.0.1:``port``, with
    ``DEBUG=false`` as in production (under DEBUG Django keeps every query's SQL, which would
    count as memory per connection), on Redis when ``redis_url`` is given, else on the
    in-memory layer; its stderr appended to ``log``. Returns once the port answers."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **(env or {}),
    }
    env.pop("REDIS_URL", None)
    env["DEBUG"] = "false"
    if redis_url:
        env["REDIS_URL"] = redis_url
    daphne = str(Path(sys.executable).with_name("daphne"))
    server = subprocess.Popen(  # noqa: S603 - our own daphne, fixed arguments
        [
            daphne,
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            # a storm queues handshakes behind one worker thread: wait for them
            "--websocket_connect_timeout",
            str(CONNECT_TIMEOUT),
            application,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),  # noqa: SIM115 - the server's, closed when it exits
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("daphne did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def redis_up(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def signed_in_session(key: str, user, expire, extra: dict | None = None):
    """An unsaved ``Session`` row with ``key`` signed in as ``user`` (as ``login`` stores
    it), plus ``extra`` keys (a staff member's second-step device)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        **(extra or {}),
    }
    return Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expire)


def cookie(key: str) -> dict[str, str]:
    from django.conf import settings

    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"}


async def open_socket(url: str, port: int, key: str, first: str = '"hello"'):
    """A websocket to ``url`` with session ``key`` and the site's origin, once its first
    message (containing ``first``) has arrived."""
    import websockets

    sock = await websockets.connect(
        url,
        origin=f"http://127.0.0.1:{port}",
        additional_headers=cookie(key),
        open_timeout=CONNECT_TIMEOUT,
        ping_interval=None,
        max_queue=None,
    )
    hello = await asyncio.wait_for(sock.recv(), CONNECT_TIMEOUT)
    if first not in hello:
        raise RuntimeError(hello)
    return sock
