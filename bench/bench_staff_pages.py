"""Staff pages at province scale: every page an officer, a counselor and an administrator
reach from their home and their menu, and a busy person's page, on
``generate_load_data --persons 50000 --months 12``.

Per page: the server time of 20 requests (median and p95) through Django's test client and
the whole middleware stack (sessions, two-factor check, language, access log), and the number
of queries (``CaptureQueriesContext``) at two sizes, 5,000 and 50,000 persons: a page whose
count differs between the sizes runs a query per row somewhere. Target: every p95 ≤ 300 ms,
the counts equal at both sizes.

Each size has its own database, made once and kept (``generate_load_data`` takes minutes):
SQLite files in ``BENCH_STAFF_DIR`` (default ``/tmp/bench-staff``), or, when
``DATABASE_URL`` is PostgreSQL, databases named after its database with the size appended
(``…/bench_staff`` → ``bench_staff_5000`` and ``bench_staff_50000``) on the same server,
created here. The measuring runs in a child process on that database, with
``DEBUG=false`` as in production. The busy person (the counselor's first) also gets 8
reviewed PHQ-9 results and 3 plan versions (``bench_dossiers``).

The naive baseline, where there is one, is the page's queryset code before its fix
(``BENCH_STAFF_NAIVE``, see ``naive_patches``).

    .venv/bin/python bench/bench_staff_pages.py            # both sizes, prints the table
    export DATABASE_URL=postgres://postgres@localhost/bench_staff
    .venv/bin/python bench/bench_staff_pages.py   # in bench_staff_5000, bench_staff_50000

It prints the README's block for the database: a line with the date, the machine and the load
average during the run, then the Markdown table.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SIZES = (5_000, 50_000)
MONTHS = 12
REQUESTS = 20
TARGET_MS = 300
ROLES = ("officer", "counselor", "administrator")
MARKER = "load-province"  # generate_load_data's province code and staff usernames


# --- Databases (parent process) ---------------------------------------------------------------


def database_url(persons: int) -> str:
    """The kept database for ``persons``: on DATABASE_URL's PostgreSQL server, named after
    its database (``bench_perf`` → ``bench_perf_50000``; so two checkouts benching at once
    keep apart), else an SQLite file in BENCH_STAFF_DIR."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(url)
        name = parts.path.strip("/") or "bench_staff"
        return urlunsplit(parts._replace(path=f"/{name}_{persons}"))
    folder = Path(os.environ.get("BENCH_STAFF_DIR", "/tmp/bench-staff"))  # noqa: S108
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder}/staff-{persons}.sqlite3"


def _create_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def _child(url: str, *args: str, naive: bool = False) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
    }
    env.pop("BENCH_STAFF_NAIVE", None)
    if naive:
        env["BENCH_STAFF_NAIVE"] = "1"
    done = subprocess.run(  # noqa: S603 - this file, fixed arguments
        [sys.executable, __file__, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def prepare(persons: int) -> str:
    url = database_url(persons)
    if url.startswith("postgres"):
        _create_postgres_database(url)
    out = _child(url, "prepare", str(persons))
    sys.stderr.write(out)
    return url


def measure(persons: int, *, naive: bool = False, requests: int = REQUESTS) -> list[dict]:
    url = prepare(persons)
    return json.loads(_child(url, "measure", str(requests), naive=naive))


# --- Child process: data ------------------------------------------------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_prepare(persons: int) -> None:
    """Migrate, generate the load data once, then the busy person's extras once."""
    from django.core.management import call_command

    from people.models import Office

    call_command("migrate", verbosity=0)
    if not Office.objects.filter(code=MARKER).exists():
        began = time.perf_counter()
        call_command("generate_load_data", persons=persons, months=MONTHS)
        print(f"generate_load_data --persons {persons}: {time.perf_counter() - began:.0f} s")
    busy = busy_person()
    if not busy.assignments.exists():
        from bench.bench_dossiers import _plans, _results

        counselor = staff("counselor")
        _results(busy, counselor)
        _plans(busy, counselor, busy.supervision_start)


def staff(role: str):
    from people.models import User

    return User.objects.get(username=f"{MARKER}-{role}")


def busy_person():
    """The counselor's first person in the officer's office (12 months of ledger)."""
    from people.models import Person

    return (
        Person.objects.filter(
            caseloads__counselor=staff("counselor"), office=staff("officer").office_id
        )
        .order_by("pk")
        .first()
    )


# --- Child process: measuring -----------------------------------------------------------------


def sign_in(client, user) -> None:
    """Signed in and past the second step, as ``tests.factories.login_staff``."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def menu_pages(user) -> list[tuple[str, str]]:
    """(label, url) of every link in ``user``'s admin menu, as rendered."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory
    from django.urls import reverse
    from django.utils import translation
    from wagtail.admin.menu import admin_menu
    from wagtail.admin.ui.sidebar import SubMenuItem

    reverse("wagtailadmin_home")  # the URLconf registers the viewsets' menu items
    request = RequestFactory().get("/admin/")
    request.user, request.session = user, SessionStore()
    pages = []
    with translation.override("zh-hans"):
        for item in admin_menu.render_component(request):
            children = item.menu_items if isinstance(item, SubMenuItem) else [item]
            for child in children:
                url = getattr(child, "url", "")
                if url.startswith("/admin/") and "notifications" not in child.name:
                    pages.append((child.name, url))
    return pages


def count_queries(client, url: str):
    """The response and its number of queries. (``CaptureQueriesContext`` reads the debug
    log, which Django empties at the start of every request.)"""
    from django.db import connection

    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    return response, len(queries)


def _time_page(client, url: str, requests: int) -> dict:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if response.status_code in (301, 302):  # Wagtail's settings go to the default site's
        url = response["Location"]
    # counted on the second request: a first one may seed defaults (the reminder texts); and
    # the fewer of two, since the session's activity stamp is written once a minute, on
    # whichever request crosses it (one query more, at either size)
    client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response, queries = count_queries(client, url)
    queries = min(queries, count_queries(client, url)[1])
    if response.status_code != 200:
        return {"status": response.status_code, "queries": queries}
    times, cpu = [], []
    for _ in range(requests):
        began, began_cpu = time.perf_counter(), time.process_time()
        client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    times.sort()
    return {
        "status": 200,
        "url": url,
        "queries": queries,
        "median": statistics.median(times),
        "cpu": statistics.median(cpu),
        "p95": times[max(0, round(0.95 * len(times)) - 1)],
    }


def child_measure(requests: int) -> list[dict]:
    from django.db import connection
    from django.test import Client

    if os.environ.get("BENCH_STAFF_NAIVE"):
        naive_patches()
    busy = busy_person()
    rows = []
    for role in ROLES:
        user = staff(role)
        client = Client()
        sign_in(client, user)
        pages = [("home", "/admin/"), *menu_pages(user)]
        if role != "administrator":  # the bureau's administrator sees no person pages
            pages.append(("busy person", f"/admin/people/{busy.pk}/"))
        for label, url in pages:
            row = {"role": role, "page": label, "url": url}
            row.update(_time_page(client, url, requests))
            rows.append(row)
    return [{**row, "vendor": connection.vendor} for row in rows]


def naive_patches() -> None:
    """The scoping code the fixes replaced, for the naive column: persons of an office
    subtree by a join on the office's path, a lecture's audience always as the list of the
    scope's audience rows."""
    from django.db.models import Q

    import assessments.models
    import live.models
    import people.models
    import plans.models

    def joined(office, prefix=""):
        return Q(**{f"{prefix}office__path__startswith": office.path})

    for module in (people.models, plans.models, assessments.models):
        module.in_office_subtree = joined
    live.models._wide_scope = lambda user, roles: False


# --- Report -------------------------------------------------------------------------------------


NAIVE_REQUESTS = 5


def _key(row: dict) -> tuple[str, str]:
    return row["role"], row["page"]


def run() -> list[dict]:
    """Rows for ``bench/run.py``: per page at 50,000 persons, ours = p95 of 20 requests,
    naive = the median of 5 with the scoping code the fixes replaced."""
    small = {_key(r): r for r in measure(SIZES[0], requests=1)}
    naive = {_key(r): r for r in measure(SIZES[-1], naive=True, requests=NAIVE_REQUESTS)}
    rows = []
    for r in measure(SIZES[-1]):
        other = small.get(_key(r), {})
        if r["status"] != 200:
            rows.append({"name": f"{r['role']}: {r['page']}", "ours": 0.0, "naive": None})
            rows[-1]["note"] = f"status {r['status']}"
            continue
        same = "same" if other.get("queries") == r["queries"] else "DIFFERS"
        rows.append(
            {
                "name": f"{r['vendor']} {r['role']}: {r['page']}",
                "ours": r["p95"],
                "naive": naive.get(_key(r), {}).get("median"),
                "note": f"median {r['median'] * 1000:.0f} ms, CPU {r['cpu'] * 1000:.0f} ms, "
                f"{r['queries']} queries ({other.get('queries')} at {SIZES[0]:,}: {same})",
            }
        )
    return rows


def table(large: list[dict], small: list[dict], naive: list[dict]) -> str:
    """The README's table rows."""
    counts = {_key(r): r.get("queries") for r in small}
    before = {_key(r): r for r in naive}
    lines = []
    for r in large:
        if r["status"] != 200:
            lines.append(f"| {r['role']} | {r['page']} | status {r['status']} | | | | | |")
            continue
        queries = counts.get(_key(r))
        old = before.get(_key(r), {})
        old_ms = f"{old['median'] * 1000:,.0f} ms" if "median" in old else "–"
        verdict = "✓" if r["p95"] * 1000 <= TARGET_MS and queries == r["queries"] else "✗"
        lines.append(
            f"| {r['role']} | {r['page']} (`{r['url']}`) | {r['median'] * 1000:.0f} ms | "
            f"{r['p95'] * 1000:.0f} ms | {r['cpu'] * 1000:.0f} ms | {queries} → {r['queries']} | "
            f"{old_ms} | {verdict} |"
        )
    return "\n".join(lines)


HEADER = (
    "| role | page | median | p95 | CPU (median) | queries at 5,000 → 50,000 | "
    "naive median | ≤ 300 ms, same queries |\n"
    "|---|---|---|---|---|---|---|---|"
)


def machine() -> str:
    """The CPU's model name and the number of cores, e.g. ``AMD EPYC 7B13, 2 cores``."""
    name = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {os.cpu_count()} cores"


def section(large: list[dict], small: list[dict], naive: list[dict], load: list[float]) -> str:
    """The README's block for one database: a line naming the run (database, date, machine,
    the 1-minute load average from the first measurement to the last), a blank line and the
    table, with real line breaks (paste it as is)."""
    vendor = large[0]["vendor"] if large else "?"
    within = sum(1 for r in large if r["status"] == 200 and r["p95"] * 1000 <= TARGET_MS)
    lines = [
        f"**{vendor}**, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}, "
        f"load {min(load):.1f}–{max(load):.1f} (1-minute average during the run); "
        f"{within} of {len(large)} pages within {TARGET_MS} ms:",
        "",
        HEADER,
        table(large, small, naive),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "prepare":
        _setup_django()
        child_prepare(int(argv[1]))
    elif argv and argv[0] == "measure":
        _setup_django()
        print(json.dumps(child_measure(int(argv[1]))))
    else:
        load = [os.getloadavg()[0]]
        small = measure(SIZES[0], requests=1)
        load.append(os.getloadavg()[0])
        naive = measure(SIZES[-1], naive=True, requests=NAIVE_REQUESTS)
        load.append(os.getloadavg()[0])
        large = measure(SIZES[-1], requests=int(os.environ.get("BENCH_REQUESTS", REQUESTS)))
        load.append(os.getloadavg()[0])
        print(section(large, small, naive, load))


if __name__ == "__main__":
    main(sys.argv[1:])
