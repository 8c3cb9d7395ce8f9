"""`make run` starts web, worker and scheduler together, with jobs queued for the worker."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_the_procfile_runs_web_worker_and_scheduler():
    processes = procfile()
    assert set(processes) == {"web", "worker", "scheduler"}
    assert "daphne" in processes["web"] and "config.asgi:application" in processes["web"]
    assert "manage.py db_worker" in processes["worker"]
    assert "manage.py run_scheduler" in processes["scheduler"]


def test_make_run_starts_them_with_the_database_queue():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run: install[^\n]*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "honcho start" in run.splitlines()[-1]
    assert re.search(r"^run: export TASKS_BACKEND \?= database$", makefile, re.MULTILINE)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("honcho") for d in dependencies)
