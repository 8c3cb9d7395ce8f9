"""The scaled-out topology's HTTP server (docs/deploy.md) serves this project's WSGI entry
point: granian, started with the documented options on the test's database, records a
signed-in learner's heartbeat and refuses the bad ones, with the site's headers."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CSRF = "httpservertestcsrfsecret00000000"  # 32 characters: a CSRF secret
TAB = "tab-http-server"


def database_url(tmp_path: Path) -> str:
    """The test database as the server should open it: PostgreSQL's test database itself,
    or a copy of SQLite's in-memory one (with what the test has committed so far) in
    ``tmp_path / "site.sqlite3"``."""
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        path = tmp_path / "site.sqlite3"
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    found = connection.settings_dict
    auth = quote(found["USER"] or "", safe="")
    if found.get("PASSWORD"):
        auth += ":" + quote(found["PASSWORD"], safe="")
    host, port = found.get("HOST") or "127.0.0.1", found.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(found['NAME'], safe='')}"


@contextmanager
def granian(url: str, log: Path):
    """granian serving ``config.wsgi`` with the options docs/deploy.md gives, on a free port,
    once both its workers have started. Stopped with its whole process group: granian asked
    to stop while a worker is still starting waits for that worker for ever."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface=wsgi",
        "config.wsgi:application",
        "--workers=2",
        "--blocking-threads=1",
        "--blocking-threads-idle-timeout=600",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--working-dir={ROOT}",
        "--no-ws",
        "--log-level=info",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while not all(f"Started worker-{n}" in log.read_text() for n in (1, 2)):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"granian did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield port
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to granian's process group, SIGKILL to what is left of it after 15 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            process.poll()  # reaps the main process, which would otherwise stay a member
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
    process.wait()


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.msg, response.read()  # headers: any case
    finally:
        connection.close()


def beat(port: int, lesson_id: int, cookies: str, **headers):
    body = json.dumps({"lesson": lesson_id, "tab": TAB}).encode()
    return request(
        port,
        "POST",
        "/learning/heartbeat/",
        body,
        {"Content-Type": "application/json", "Cookie": cookies, **headers},
    )


def test_granian_serves_the_site_and_its_heartbeats(org, client, tmp_path):
    from learning.models import Enrollment, StudySession
    from tests.learning.builders import lessons_of, make_course

    course = make_course(lessons=1)
    lesson = lessons_of(course)[0]
    Enrollment.objects.create(person=org.person, course=course)
    client.force_login(org.learner)
    signed_in = f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}"
    url = database_url(tmp_path)
    with granian(url, tmp_path / "granian.log") as port:
        status, headers, content = beat(port, lesson.pk, signed_in, **{"X-CSRFToken": CSRF})
        assert status == 200, content
        answer = json.loads(content)
        assert answer["expected_seconds"] == lesson.expected_seconds
        assert "no-store" in headers["Cache-Control"]
        assert "Content-Security-Policy" in headers
        # The same tab again at once: refused as too fast, nothing more recorded.
        status, _headers, content = beat(port, lesson.pk, signed_in, **{"X-CSRFToken": CSRF})
        assert status == 429
        assert json.loads(content) == {"error": "too_fast"}
        # Without the CSRF header, or without a session: refused with the site's headers.
        status, headers, _content = beat(port, lesson.pk, signed_in)
        assert status == 403
        assert headers["X-Content-Type-Options"] == "nosniff"
        signed_out = f"csrftoken={CSRF}"
        status, _headers, content = beat(port, lesson.pk, signed_out, **{"X-CSRFToken": CSRF})
        assert status == 403
        assert json.loads(content) == {"error": "not_signed_in"}
        # Keep-alive: several requests on one connection.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(3):
                connection.request("GET", "/learning/heartbeat/")
                response = connection.getresponse()
                response.read()
                assert response.status == 405
                assert "POST" in response.getheader("Allow", "")
        finally:
            connection.close()
    # The beat the server recorded, in the database it wrote to.
    if url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "site.sqlite3") as copy:
            tabs = [tab for (tab,) in copy.execute("SELECT tab FROM learning_studysession")]
    else:
        tabs = list(StudySession.objects.values_list("tab", flat=True))
    assert tabs == [TAB]
