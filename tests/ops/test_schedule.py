"""The one schedule table (ops/schedule.py): complete, and its slots and words right."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone, translation

from ops import tasks
from ops.schedule import JOBS, JOBS_BY_NAME, Daily, Every

ROOT = Path(__file__).resolve().parents[2]
# Issue 17: none of these ever ran by itself.
MUST_RUN = {
    "refresh_rollups",
    "run_follow_up",
    "apply_assessment_schedules",
    "escalate_alerts",
    "close_presence_checks",
    "send_lecture_reminders",
    "apply_enrollment_rules",
    "recompute_attendance",
}


def at(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def periodic_commands() -> set[str]:
    """Every management command of our apps whose help or docstring says it runs from cron,
    nightly or daily, i.e. work somebody expects to happen by itself."""
    found = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "management" / "commands"
        # ops runs the scheduler itself; everything else with a command is a candidate.
        if config.name == "ops" or ROOT not in Path(config.path).parents or not folder.is_dir():
            continue
        for path in folder.glob("*.py"):
            if re.search(r"\bcron\b|nightly|once a day|every \w+ minutes?", path.read_text()):
                found.add(path.stem)
    return found


def test_every_periodic_command_is_in_the_table():
    scheduled = {job.command.split()[0] for job in JOBS if job.command}
    assert MUST_RUN <= periodic_commands()
    assert periodic_commands() <= scheduled, periodic_commands() - scheduled
    assert {"refresh_rollups", "refresh_rollups --all"} <= {job.command for job in JOBS}


def test_every_job_is_a_task_of_its_own():
    assert len(JOBS_BY_NAME) == len(JOBS)
    for job in JOBS:
        assert job.task.module_path == f"ops.tasks.{job.name}"
        assert getattr(tasks, job.name) is job.task


@pytest.mark.parametrize(
    ("minutes", "now", "expected"),
    [
        (5, "2027-03-01 10:02:30", "2027-03-01 10:05:00"),
        (5, "2027-03-01 10:05:00", "2027-03-01 10:10:00"),
        (1, "2027-03-01 10:05:59", "2027-03-01 10:06:00"),
        (15, "2027-03-01 23:50:00", "2027-03-02 00:00:00"),
    ],
)
def test_every_n_minutes_runs_on_the_slots_after_midnight(minutes, now, expected):
    assert Every(minutes=minutes).next_after(at(now)) == at(expected)


def test_daily_runs_once_a_day_at_its_time():
    nightly = Daily(dt.time(2, 0))
    assert nightly.next_after(at("2027-03-01 01:59:59")) == at("2027-03-01 02:00:00")
    assert nightly.next_after(at("2027-03-01 02:00:00")) == at("2027-03-02 02:00:00")
    # A UTC moment is read in Beijing time: 18:30 UTC is 02:30 the next day there.
    utc = dt.datetime(2027, 3, 1, 18, 30, tzinfo=dt.UTC)
    assert nightly.next_after(utc) == at("2027-03-03 02:00:00")


def test_a_step_that_does_not_divide_the_day_is_refused():
    with pytest.raises(ValueError, match="divide a day"):
        Every(minutes=7)


def test_schedules_read_in_plain_chinese():
    with translation.override("zh-hans"):
        assert Every(minutes=5).describe() == "每 5 分钟"
        assert Every(minutes=1).describe() == "每分钟"
        assert Daily(dt.time(2, 0)).describe() == "每天 02:00"
        assert all(re.search("[\u4e00-\u9fff]", str(job.title)) for job in JOBS)
    with translation.override("en"):
        assert Every(minutes=5).describe() == "Every 5 minutes"
