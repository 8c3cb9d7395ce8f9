"""Heartbeats end to end: wrk against the HTTP server over loopback (granian, as deployed;
``BENCH_SERVER=gunicorn`` for gunicorn's gthread worker with ``--reuse-port``), the project's
``POST /learning/heartbeat/`` against a naive endpoint (``bench/heartbeat_server.py``: one row
per beat, the person's credit computed again from all their beats) served with a new database
connection per request (``CONN_MAX_AGE=0``; ours keeps connections, ``CONN_MAX_AGE=600``).
Ours is the project as deployed: JSON beats answered by ``learning.heartbeat.middleware``
(on PostgreSQL a session the worker has checked is read and its beat recorded in one
statement), sessions read and written by ``lib.session_store``; the naive endpoint goes
through the whole middleware stack.

12,000 signed-in learners each have a tab studying a one-hour lesson: 20 minutes credited
earlier today plus an open session whose last beat the server received 5 s before the run, so
each measured beat is the common one, a 15 s-ish extension of an open session (the naive table
holds 40 earlier beats per learner). Every request is another learner's tab, so none is refused
by the 5 s rate limit. Before each run, four passes of paused-video beats over all the
learners warm the workers up (in a steady state a learner's tab beats all lesson long, so
every worker has seen it). Two runs per design, each ``DURATION`` seconds: closed loop (as
fast as answers come; beats per second) and paced at 450 beats/s (a province's month-end
peak; p99). The server runs ``WORKERS`` processes, so on SQLite several processes write at
once: every 5xx and every "database is locked" in the server log is counted, and after each
run the beats recorded in the database are counted against the answers. wrk runs on the same
two cores; its CPU per request is reported beside the server's.

Needs wrk (Debian's package; installed with apt-get when missing, as ``make test`` does for
chromium). For the scaled-out figures, run against PostgreSQL:

    createdb -h 127.0.0.1 -U postgres bench_heartbeat
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_heartbeat \\
        .venv/bin/python bench/run.py bench_heartbeat
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERSONS = 12_000
DURATION = 5  # seconds of load per wrk run
CONNECTIONS = 16  # closed loop
PACED_RATE = 450  # beats per second
PACED_CONNECTIONS = 32
WARM_ROUNDS = 4  # passes over all the learners, before each measured run
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
# Threads overlap one request's database round trips with another's Python (the GIL is
# released while waiting); on PostgreSQL that is most of a beat's wall time.
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
# Each worker listens on a socket of its own (SO_REUSEPORT), so the kernel spreads new
# connections over the workers by a hash of their addresses; 0 to share one socket.
REUSE_PORT = os.environ.get("BENCH_REUSE_PORT", "1") == "1"
SERVER = os.environ.get("BENCH_SERVER", "granian")
CSRF = "heartbeatbenchcsrfsecret00000000"  # 32 characters: a CSRF secret
PREFIX = "HBEAT-"
EXPECTED = 3600  # the lesson's expected seconds: the beats stay far from its cap
HISTORY_BEATS = 40  # rows per learner in the naive table before the run
PATHS = {"ours": "/learning/heartbeat/", "naive": "/bench/naive-heartbeat/"}
CONN_MAX_AGE = {"ours": "600", "naive": "0"}
LOCKED = "database is locked"


def _ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None and shutil.which("apt-get"):
        print("bench_heartbeat: installing Debian's wrk ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench_heartbeat needs wrk: apt-get install wrk")
    return wrk


# --- Data -----------------------------------------------------------------------------------


def _lesson():
    from cms.models import HomePage
    from courses.models import CourseIndexPage, CoursePage, LessonPage

    lesson = LessonPage.objects.filter(slug="heartbeat-bench-lesson").first()
    if lesson is not None:
        return lesson
    index = CourseIndexPage.objects.first()
    if index is None:
        index = HomePage.objects.first().add_child(
            instance=CourseIndexPage(title="Courses", slug="courses")
        )
    course = index.add_child(
        instance=CoursePage(title="心跳基准", slug="heartbeat-bench", summary="bench")
    )
    body = json.dumps([{"type": "text", "value": "<p>学习内容</p>", "id": "hbeat-text"}])
    return course.add_child(
        instance=LessonPage(
            title="基准课时",
            slug="heartbeat-bench-lesson",
            expected_seconds=EXPECTED,
            body=body,
        )
    )


def _persons(lesson) -> list[tuple[int, int]]:
    """(person id, user id) of the bench's learners, enrolled in the lesson's course."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import transaction

    from learning.models import Enrollment
    from people.models import Office, Person, User

    rows = list(
        Person.objects.filter(case_number__startswith=PREFIX)
        .order_by("case_number")
        .values_list("pk", "user_id")
    )
    if len(rows) == PERSONS:
        return rows
    with transaction.atomic():
        office = Office.add_root(name="心跳基准司法所", code="hbeat-office", kind="office")
        users = User.objects.bulk_create(
            [
                User(username=f"hbeat-{i:05d}", password=UNUSABLE_PASSWORD_PREFIX)
                for i in range(PERSONS)
            ],
            batch_size=2000,
        )
        start = dt.date(2026, 1, 1)
        persons = Person.objects.bulk_create(
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
        course = lesson.get_parent()
        Enrollment.objects.bulk_create(
            [Enrollment(person=person, course_id=course.pk) for person in persons],
            batch_size=2000,
        )
        _naive_history([p.pk for p in persons], lesson.pk)
    return [(p.pk, p.user_id) for p in persons]


def _naive_history(person_ids: list[int], lesson_id: int) -> None:
    """40 earlier beats per learner (10 minutes this morning) in the naive design's table."""
    from django.db import connection

    from bench.heartbeat_server import BEAT_TABLE, create_beat_table

    create_beat_table()
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=3)
    rows = [
        (person_id, lesson_id, f"hist-{person_id}", start + dt.timedelta(seconds=15 * j))
        for person_id in person_ids
        for j in range(HISTORY_BEATS)
    ]
    with connection.cursor() as cursor:
        for chunk in range(0, len(rows), 20_000):
            cursor.executemany(
                f"INSERT INTO {BEAT_TABLE} (person_id, lesson_id, tab, at)"  # noqa: S608
                " VALUES (%s, %s, %s, %s)",
                rows[chunk : chunk + 20_000],
            )


def _sign_in(persons: list[tuple[int, int]], t0: int) -> list[str]:
    """A fresh Django session per learner; a quarter of them due their once-a-minute touch."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from people.middleware import LAST_ACTIVITY_KEY
    from people.models import User

    auth_hash = User(password=UNUSABLE_PASSWORD_PREFIX).get_session_auth_hash()
    store = SessionStore()
    keys = [f"hbeat{i:027d}" for i in range(len(persons))]
    Session.objects.filter(session_key__startswith="hbeat").delete()
    expire = timezone.now() + dt.timedelta(hours=1)
    Session.objects.bulk_create(
        [
            Session(
                session_key=key,
                session_data=store.encode(
                    {
                        SESSION_KEY: str(user_id),
                        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        HASH_SESSION_KEY: auth_hash,
                        LAST_ACTIVITY_KEY: t0 - 60 if i % 4 == 0 else t0,
                    }
                ),
                expire_date=expire,
            )
            for i, (key, (_person_id, user_id)) in enumerate(zip(keys, persons, strict=True))
        ],
        batch_size=2000,
    )
    return keys


def _seed_sessions(persons: list[tuple[int, int]], lesson, t0: int, tag: str) -> None:
    """Each learner's state 5 s before the run: a 10-minute session earlier today, and an open
    session on tab ``tag...`` last beaten at ``t0``; their progress and ledger to match."""
    from django.utils import timezone

    from learning.models import LessonProgress, StudySession
    from lib.months import month_start
    from participation.models import ParticipationRecord, ParticipationSource

    at = dt.datetime.fromtimestamp(t0, dt.UTC)
    earlier = at - dt.timedelta(hours=3)
    StudySession.objects.filter(lesson=lesson).delete()
    LessonProgress.objects.filter(lesson=lesson).delete()
    ParticipationRecord.objects.filter(requirement_key=f"lesson:{lesson.pk}").delete()
    sessions, progress, ledger = [], [], []
    for i, (person_id, _user_id) in enumerate(persons):
        open_for = 600 + i % 60  # so that a fair share of beats completes a minute
        tab = f"{tag}{i:06d}"
        sessions += [
            StudySession(
                person_id=person_id,
                lesson=lesson,
                tab=f"hist-{person_id}",
                started_at=earlier,
                last_beat_at=earlier + dt.timedelta(seconds=600),
                span_seconds=600,
                is_open=False,
            ),
            StudySession(
                person_id=person_id,
                lesson=lesson,
                tab=tab,
                started_at=at - dt.timedelta(seconds=open_for),
                last_beat_at=at,
                span_seconds=open_for,
            ),
        ]
        credited = 600 + open_for
        progress.append(
            LessonProgress(person_id=person_id, lesson=lesson, credited_seconds=credited)
        )
        ledger.append(
            ParticipationRecord(
                person_id=person_id,
                period=month_start(timezone.localdate(at)),
                source=ParticipationSource.LESSON,
                requirement_key=f"lesson:{lesson.pk}",
                minutes=credited // 60,
            )
        )
    StudySession.objects.bulk_create(sessions, batch_size=2000)
    LessonProgress.objects.bulk_create(progress, batch_size=2000)
    ParticipationRecord.objects.bulk_create(ledger, batch_size=2000)
    _vacuum()


def _vacuum() -> None:
    """On PostgreSQL, clear the dead rows the reseeding (and earlier runs) left and refresh
    the planner's statistics, as autovacuum does in production: it is turned off on some
    machines (this one), where every run left more dead rows for the next to step over
    (855 vs 655 beats/s after a dozen runs)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE learning_studysession, learning_lessonprogress,"
            " learning_participationrecord, django_session, people_person"
        )


# --- Server and load ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int, *, children: bool = True, reaped: bool = False) -> float:
    """CPU time (user + system) of process ``pid`` and its children still running; with
    ``reaped``, also that of its children which have ended (and been waited for)."""
    total = 0.0
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    for each in [str(pid), *(found.stdout.split() if children else [])]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])
        if reaped:
            ticks += int(fields[13]) + int(fields[14])
        total += ticks / os.sysconf("SC_CLK_TCK")
    return total


def _database_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's processes (all of them: other databases' work
    on the machine counts too), with the backends that have ended since (the naive design's
    connection per request: the postmaster has reaped them), 0 on SQLite (it runs inside
    the workers)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    pids = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True)
    return sum(_cpu_seconds(int(pid), children=False, reaped=True) for pid in pids.stdout.split())


@contextmanager
def _server(design: str, log: Path):
    """gunicorn serving ``bench.heartbeat_server`` on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "CONN_MAX_AGE": CONN_MAX_AGE[design],
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    if SERVER == "granian":
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface=wsgi",
            "bench.heartbeat_server:application",
            f"--workers={WORKERS}",
            f"--blocking-threads={THREADS}",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--working-dir={ROOT}",
            "--http=1",
            "--no-ws",
            "--log-level=warning",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.heartbeat_server:application",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            f"--threads={THREADS}",
            f"--bind=127.0.0.1:{port}",
            f"--chdir={ROOT}",
            "--preload",  # import the project once, then fork the workers
            "--graceful-timeout=5",
            "--log-level=warning",
            *(["--reuse-port"] if REUSE_PORT else []),
        ]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", PATHS["ours"])
                    if connection.getresponse().status == 405:
                        break
                except (OSError, http.client.HTTPException):
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start; see {log}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker still finishing a request
                process.kill()
                process.wait()


def _record_spread(url: str, into: list[int]) -> None:
    into.extend(_connections_per_worker(url))


def _connections_per_worker(url: str) -> list[int]:
    """How wrk's keep-alive connections are spread over the workers (most first): each stays
    with the worker that accepted it, and that is the kernel's choice (``ss``; [] without)."""
    port = url.rsplit(":", 1)[1]
    try:
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def _wrk(
    wrk: str,
    url: str,
    path: str,
    beats: Path,
    *,
    rate: int | None = None,
    playing=True,
    seconds: int = DURATION,
) -> dict:
    connections = PACED_CONNECTIONS if rate else CONNECTIONS
    env = {**os.environ, "BEAT_LIST": str(beats), "BEAT_PATH": path, "BEAT_CSRF": CSRF}
    if rate:
        # Mean pause per connection so that the connections together offer ``rate`` beats/s,
        # less a few milliseconds for the answer itself.
        env["BEAT_DELAY_MS"] = str(max(1, round(connections * 1000 / rate) - 4))
    if not playing:
        env["BEAT_PLAYING"] = "false"
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout=10s",
        "-s",
        str(ROOT / "bench" / "heartbeat.lua"),
        url,
        "--",
        "2",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.strip().splitlines()[-1])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    # wrk shares the two cores with the server: its own CPU per request, to report honestly.
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["wrk_cpu_ms"] = used * 1000 / max(1, result["requests"])
    result["errors"] = sum(result[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    return result


def _measure(wrk: str, design: str, persons, lesson, keys_file: Path, tmp: Path) -> dict:
    """Closed-loop and paced runs of one design against a fresh server."""
    log = tmp / f"{design}.log"
    results = {}
    with _server(design, log) as (url, pid):
        for run, rate in (("closed", None), ("paced", PACED_RATE)):
            t0 = int(time.time())
            tag = f"{design[0]}{run[0]}{t0 % 100_000:05d}x"
            keys = _sign_in(persons, t0)
            tabs = [f"{tag}{i:06d}" for i in range(len(persons))]
            keys_file.write_text(
                "".join(f"{key} {lesson.pk} {tab}\n" for key, tab in zip(keys, tabs, strict=True))
            )
            # Warm the workers up with beats of paused videos (read only, never rate limited).
            # Several passes over all the learners: a learner's tab beats for a whole lesson,
            # so in a steady state every worker has checked their session
            # (``learning.heartbeat.middleware`` keeps what it checked).
            seconds = 2
            for _round in range(WARM_ROUNDS):
                warm = _wrk(wrk, url, PATHS["ours"], keys_file, playing=False, seconds=seconds)
                # Long enough for the next rounds to reach every learner.
                seconds = max(2, min(15, round(1.2 * PERSONS / max(1.0, warm["rate"]))))
            t1 = int(time.time())
            if design == "ours":
                _seed_sessions(persons, lesson, t1, tag)
            time.sleep(max(0.0, t1 + 5.5 - time.time()))
            cpu, db_cpu = _cpu_seconds(pid), _database_cpu_seconds()
            spread: list[int] = []
            watcher = threading.Timer(2.0, _record_spread, (url, spread))
            watcher.start()
            results[run] = _wrk(wrk, url, PATHS[design], keys_file, rate=rate)
            watcher.join()
            results[run]["spread"] = "/".join(map(str, spread)) or "?"
            results[run]["recorded"] = _recorded(design, lesson, t1)
            beats = results[run]["requests"]
            results[run]["cpu_ms"] = (_cpu_seconds(pid) - cpu) * 1000 / beats
            results[run]["db_cpu_ms"] = (_database_cpu_seconds() - db_cpu) * 1000 / beats
    results["locked"] = log.read_text(errors="replace").count(LOCKED)
    return results


def _recorded(design: str, lesson, since: int) -> int:
    """Beats the run recorded: learners whose open session was extended after ``since``
    (ours: one beat each), or rows written after it (naive). A check that the answers were
    real beats, not refusals."""
    from django.db import connection

    from bench.heartbeat_server import BEAT_TABLE
    from learning.models import StudySession

    at = dt.datetime.fromtimestamp(since, dt.UTC)
    if design == "ours":
        found = StudySession.objects.filter(lesson=lesson, is_open=True, last_beat_at__gt=at)
        count = found.count()
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {BEAT_TABLE} WHERE at > %s",  # noqa: S608
                [at.replace(tzinfo=None)],
            )
            count = cursor.fetchone()[0]
    connection.close()  # the servers' writers must not wait for this process
    return count


def run() -> list[dict]:
    from django.db import connection

    wrk = _ensure_wrk()
    lesson = _lesson()
    persons = _persons(lesson)
    from bench.heartbeat_server import create_beat_table

    create_beat_table()
    connection.close()  # the servers' writers must not wait for this process
    tmp = Path(tempfile.mkdtemp(prefix="bench-heartbeat-"))
    keys_file = tmp / "beats.txt"
    got = {d: _measure(wrk, d, persons, lesson, keys_file, tmp) for d in ("ours", "naive")}
    shutil.rmtree(tmp, ignore_errors=True)
    ours, naive = got["ours"], got["naive"]
    setup = f"{SERVER} {WORKERS}x{THREADS}, wrk"

    def errors(design: str, run: str) -> str:
        r = got[design][run]
        return f"{r['errors']} errors ({r['non2xx']} non-2xx)"

    return [
        {
            "name": f"heartbeats/s, closed loop, {CONNECTIONS} connections",
            "ours": 1 / ours["closed"]["rate"],
            "naive": 1 / naive["closed"]["rate"],
            "note": (
                f"{ours['closed']['rate']:,.0f} vs {naive['closed']['rate']:,.0f} beats/s; "
                f"p99 {ours['closed']['p99_us'] / 1000:.0f} vs "
                f"{naive['closed']['p99_us'] / 1000:.0f} ms; {setup}; "
                f"connections per worker: ours {ours['closed']['spread']}, "
                f"naive {naive['closed']['spread']}; "
                f"ours {errors('ours', 'closed')}, naive {errors('naive', 'closed')}; "
                f"beats recorded: ours {ours['closed']['recorded']:,} of "
                f"{ours['closed']['requests']:,}, naive {naive['closed']['recorded']:,} of "
                f"{naive['closed']['requests']:,}; "
                f'"{LOCKED}" in the logs: ours {ours["locked"]}, naive {naive["locked"]}'
            ),
        },
        {
            "name": f"p99 latency at {PACED_RATE} beats/s offered",
            "ours": ours["paced"]["p99_us"] / 1e6,
            "naive": naive["paced"]["p99_us"] / 1e6,
            "note": (
                f"achieved {ours['paced']['rate']:,.0f} vs {naive['paced']['rate']:,.0f} "
                f"beats/s; p50 {ours['paced']['p50_us'] / 1000:.1f} vs "
                f"{naive['paced']['p50_us'] / 1000:.1f} ms; "
                f"ours {errors('ours', 'paced')}, naive {errors('naive', 'paced')}; "
                f"beats recorded: ours {ours['paced']['recorded']:,} of "
                f"{ours['paced']['requests']:,}; "
                f"wrk's connections per worker: ours {ours['paced']['spread']}, "
                f"naive {naive['paced']['spread']}"
            ),
        },
        {
            "name": "server CPU per beat (server processes)",
            "ours": ours["closed"]["cpu_ms"] / 1000,
            "naive": naive["closed"]["cpu_ms"] / 1000,
            "note": (
                "user + system time of the workers during the closed-loop run / beats; "
                f"wrk itself: {ours['closed']['wrk_cpu_ms']:.2f} ms per beat on the same cores; "
                f"database server: ours {ours['closed']['db_cpu_ms']:.2f} ms, naive "
                f"{naive['closed']['db_cpu_ms']:.2f} ms per beat"
            ),
        },
    ]
