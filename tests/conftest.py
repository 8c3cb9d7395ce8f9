from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.factories import Org, make_org

# This checkout, in a few characters: several checkouts on one machine share its PostgreSQL
# and Redis servers, and each pytest-xdist worker needs names of its own there too.
CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:6]


def _worker(config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request):
    """PostgreSQL's test database is ``test_<name>_<checkout>_<worker>`` (``test_test_3f9a1c_gw0``):
    neither another checkout's run nor another worker of this one drops or fills it. (SQLite's
    test database is in memory, one per process.)"""
    from django.conf import settings

    for db in settings.DATABASES.values():
        if db["ENGINE"] == "django.db.backends.sqlite3":
            continue
        name = db.get("TEST", {}).get("NAME") or f"test_{db['NAME']}"
        db.setdefault("TEST", {})["NAME"] = f"{name}_{CHECKOUT}_{_worker(request.config)}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, which then drops the test database, once this process's other
    PostgreSQL sessions on it have ended: threads that ran database work (async consumers'
    ``database_sync_to_async``, live servers) keep their connections (``CONN_MAX_AGE``), and
    PostgreSQL refuses to drop a database in use; the database was left behind, a copy per
    checkout and worker."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            connection.close()
            with connection._nodb_cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"]],
                )


@pytest.fixture(scope="session", autouse=True)
def own_redis_channel_names(request):
    """With ``REDIS_URL`` every worker (and every checkout) uses its own key prefix on the one
    Redis server: groups are named after database ids, which are the same in every worker's
    database, so a ``group_send`` would otherwise reach another worker's sockets."""
    from django.conf import settings

    config = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    if "hosts" in config:
        config["prefix"] = f"asgi-{CHECKOUT}-{_worker(request.config)}"


def pytest_terminal_summary(terminalreporter):
    """The permission matrix runs as several tests (tests/security/test_permission_matrix.py);
    add their counts up into its one summary line, also when several xdist workers ran them."""
    cells = mismatches = parts = 0
    for outcome in ("passed", "failed"):
        for report in terminalreporter.getreports(outcome):
            found = dict(getattr(report, "user_properties", ()))
            if report.when == "call" and "permission_matrix_cells" in found:
                parts += 1
                cells += found["permission_matrix_cells"]
                mismatches += found["permission_matrix_mismatches"]
    if parts:
        terminalreporter.write_line(
            f"permission matrix: {cells} cells checked, {mismatches} mismatches ({parts} tests)"
        )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashers cost ~0.3 s per password; tests create dozens of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language. A test client request leaves the language it
    chose active on the thread (Django never deactivates it), so an English page fetched by
    one test would otherwise make the next test's services speak English."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_cache():
    """The local-memory cache outlives a test's database rollback; start each test empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Org:
    return make_org()


@pytest.fixture
def learner(org):
    return org.learner


@pytest.fixture
def other_learner(org):
    return org.other_learner


@pytest.fixture
def counselor(org):
    return org.counselor


@pytest.fixture
def lecturer(org):
    return org.lecturer


@pytest.fixture
def officer(org):
    return org.officer


@pytest.fixture
def outsider(org):
    return org.outsider


@pytest.fixture
def english(settings):
    """Serve and translate in English, for tests that assert on the English source strings
    (the site's default language is Chinese; the catalogue translates them)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def concurrent_db(transactional_db, django_db_serialized_rollback):
    """A test database that threads share, each on a connection of its own, with the real
    locks of the configured database: for tests of a concurrent burst.

    Data is committed (``transactional_db``), and what the migrations put in (role groups,
    permissions) is restored first (``django_db_serialized_rollback``): a serialized-rollback
    test before this one leaves the tables empty. On PostgreSQL that is all. SQLite's in-memory
    test database cannot serve it (its shared-cache connections answer "table is locked" at
    once instead of waiting their turn), so for the test it is copied to a file opened with the
    project's options (WAL, IMMEDIATE transactions, busy timeout). Each thread must end with
    ``connections.close_all()``.
    """
    import sqlite3
    import tempfile

    from django.db import connections

    memory = connections["default"]
    if memory.vendor != "sqlite" or not memory.is_in_memory_db():
        yield
        return
    memory_settings = connections.settings["default"]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "concurrent.sqlite3"
        memory.ensure_connection()
        target = sqlite3.connect(path)
        memory.connection.backup(target)
        target.close()
        connections.settings["default"] = {**memory_settings, "NAME": str(path)}
        connections["default"] = connections.create_connection("default")
        try:
            yield
        finally:
            connections["default"].close()
            # closing an in-memory connection would drop the test database: put it back
            connections["default"] = memory
            connections.settings["default"] = memory_settings
