"""THE schedule: every job that runs by itself, how often, and the management command that
does the same by hand. Nothing else starts periodic work; ``tests/ops/test_schedule.py``
fails when a command documented as periodic is missing here.

Times are wall-clock times in ``TIME_ZONE`` (Asia/Shanghai). ``Every(minutes=n)`` runs at the
multiples of ``n`` minutes after midnight (``n`` divides a day); ``Daily(at)`` once a day.
A job never run before is due at once, so a fresh installation fills its dashboards on the
scheduler's first pass; after a pause, an overdue job runs once (missed slots are not
replayed: every job catches up by itself).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks.base import Task

from ops import tasks

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Every:
    minutes: int

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= MINUTES_PER_DAY or MINUTES_PER_DAY % self.minutes:
            raise ValueError(f"Every(minutes={self.minutes}): must divide a day")

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first slot strictly after ``moment``."""
        local = timezone.localtime(moment)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        step = dt.timedelta(minutes=self.minutes)
        return midnight + ((local - midnight) // step + 1) * step

    def describe(self) -> str:
        if self.minutes == 1:
            return str(_("Every minute"))
        return str(_("Every %(n)d minutes") % {"n": self.minutes})


@dataclass(frozen=True)
class Daily:
    at: dt.time

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        local = timezone.localtime(moment)
        day = local.date()
        if local.time() >= self.at:
            day += dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, self.at))

    def describe(self) -> str:
        return str(_("Every day at %(time)s") % {"time": self.at.strftime("%H:%M")})


@dataclass(frozen=True)
class Job:
    task: Task
    schedule: Every | Daily
    title: str
    command: str  # the management command that does the same by hand

    @property
    def name(self) -> str:
        return self.task.name


JOBS: tuple[Job, ...] = (
    Job(
        tasks.close_presence_checks,
        Every(minutes=1),
        _("Close unanswered presence checks"),
        "close_presence_checks",
    ),
    # Roll-calls: the text-message fallback after a minute, deadlines, follow-up tasks,
    # escalation, and planned spot checks whose time has come.
    Job(
        tasks.rollcall_tick,
        Every(minutes=1),
        _("Roll-calls: text messages, deadlines, follow-up, spot checks"),
        "rollcall_tick",
    ),
    Job(
        tasks.recompute_attendance,
        Every(minutes=5),
        _("Fix lecture audiences and compute attendance"),
        "recompute_attendance",
    ),
    Job(
        tasks.send_lecture_reminders,
        Every(minutes=5),
        _("Remind of lectures and makeups"),
        "send_lecture_reminders",
    ),
    Job(
        tasks.refresh_rollups,
        Every(minutes=5),
        _("Update participation figures (changed persons)"),
        "refresh_rollups",
    ),
    Job(
        tasks.escalate_alerts,
        Every(minutes=15),
        _("Escalate unanswered critical alerts"),
        "escalate_alerts",
    ),
    # Before working hours (09:00), so the day's spot checks are planned before the first.
    Job(
        tasks.draw_spot_checks,
        Daily(dt.time(0, 30)),
        _("Draw the week's and the month's spot checks"),
        "draw_spot_checks",
    ),
    Job(
        tasks.apply_enrollment_rules,
        Daily(dt.time(1, 30)),
        _("Apply auto-enrollment rules"),
        "apply_enrollment_rules",
    ),
    Job(
        tasks.refresh_rollups_all,
        Daily(dt.time(2, 0)),
        _("Recompute all participation figures"),
        "refresh_rollups --all",
    ),
    Job(
        tasks.prune_job_runs,
        Daily(dt.time(3, 30)),
        _("Delete job records older than two weeks"),
        "",
    ),
    Job(
        tasks.verify_access_log,
        Daily(dt.time(4, 0)),
        _("Verify the access log's chain"),
        "verify_access_log",
    ),
    # After the nightly rollups, so each month's study record in the file is fresh.
    Job(
        tasks.compile_released_dossiers,
        Daily(dt.time(4, 30)),
        _("Compile the files of persons released yesterday"),
        "compile_released_dossiers",
    ),
    Job(
        tasks.apply_assessment_schedules,
        Daily(dt.time(7, 0)),
        _("Assign scheduled questionnaires"),
        "apply_assessment_schedules",
    ),
    Job(
        tasks.run_follow_up,
        Daily(dt.time(9, 0)),
        _("Follow up unmet study and lecture requirements"),
        "run_follow_up",
    ),
)

JOBS_BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}
