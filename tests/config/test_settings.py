from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from lib.env import env_bool, env_int, parse_database_url, parse_redis_url

ROOT = Path(__file__).resolve().parents[2]


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_int_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE"):
        env_int("CONN_MAX_AGE", 0, environ={"CONN_MAX_AGE": "ten"})


def test_env_bool_rejects_garbage():
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", environ={"DEBUG": "maybe"})
    assert env_bool("DEBUG", environ={"DEBUG": "Yes"}) is True


def test_database_url_for_postgres():
    db = parse_database_url("DATABASE_URL", "postgres://u:p%40ss@db.local:5433/corr")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.local",
        "5433",
        "corr",
    )


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host:99999/db", "postgres://h/"])
def test_bad_database_url_names_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", url)


def test_bad_redis_url_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        parse_redis_url("REDIS_URL", "http://localhost:6379")


@given(st.text())
def test_env_int_never_raises_anything_but_improperly_configured(value):
    try:
        env_int("X", 0, environ={"X": value})
    except ImproperlyConfigured as exc:
        assert "X" in str(exc)


def test_sqlite_defaults_are_safe_for_several_writers():
    script = (
        "from django.conf import settings; from django.db import connection; "
        "o = settings.DATABASES['default']['OPTIONS']; "
        "print(o['transaction_mode'], settings.CONN_MAX_AGE); "
        "c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA synchronous').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0])"
    )
    result = run_django(["shell", "-v", "0", "-c", script])
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split("\n")[:2]
    assert first == "IMMEDIATE 600"
    # WAL, synchronous=NORMAL (1) and a busy timeout, on a fresh connection.
    assert second.split() == ["wal", "1", "20000"]


def test_malformed_variable_stops_startup_with_its_name():
    result = run_django(["check"], CONN_MAX_AGE="forever")
    assert result.returncode != 0
    assert "CONN_MAX_AGE" in result.stderr


def test_production_requires_secret_key():
    result = run_django(["check"], DJANGO_ENV="production", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 30 + "-production-secret-for-the-deploy-check-1234567890",
    "ALLOWED_HOSTS": "corrections.example.org",
}


def test_check_deploy_is_clean_in_production(tmp_path):
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION_ENV,
        STATIC_ROOT=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_production_refuses_to_start_without_the_static_manifest(tmp_path, entry_point):
    """Without ``collectstatic`` every page would answer 500: the server does not start, and
    says which step is missing."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(PRODUCTION_ENV, STATIC_ROOT=str(tmp_path))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import {entry_point}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "staticfiles.json is missing" in result.stderr
    assert "collectstatic" in result.stderr

    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    started = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import {entry_point}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr


def test_check_deploy_names_the_missing_static_manifest(tmp_path):
    result = run_django(
        ["check", "--deploy"], **PRODUCTION_ENV, STATIC_ROOT=str(tmp_path / "empty")
    )
    assert result.returncode != 0
    assert "lib.E001" in result.stderr
    assert "collectstatic" in result.stderr


@pytest.mark.django_db
def test_postgresql_runs_without_jit():
    """PostgreSQL's JIT spent 0.6 s compiling the bureau's study-progress overview on every
    request (its plan costs thousands of microsecond lookups as one big query): off for the
    application's connections (config/settings.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
