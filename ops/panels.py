"""The administrators' home panels from the record of the scheduled jobs (``wagtail_hooks.py``):
which jobs need attention, and the access log's last verification (the
``verify_access_log`` job's last run). Each reads a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from wagtail.admin.ui.components import Component

from ops.models import JobRun, RunStatus
from ops.scheduler import JobRow, job_overview

VERIFY_JOB = "verify_access_log"
# The verification runs daily; older than this and the home says so.
VERIFY_STALE = dt.timedelta(hours=36)


@dataclass(frozen=True)
class JobsHealth:
    total: int
    failing: list[JobRow]  # the last run failed
    late: list[JobRow]  # due but never queued on time (scheduler down)
    warnings: list[str]

    @property
    def healthy(self) -> bool:
        return not (self.failing or self.late or self.warnings)


def jobs_health(now: dt.datetime) -> JobsHealth:
    """The jobs whose last run failed or that are late, with the scheduler's warnings (four
    queries, ``job_overview``)."""
    rows, warnings = job_overview(now)
    return JobsHealth(
        total=len(rows),
        failing=[
            r for r in rows if r.last_run is not None and r.last_run.status == RunStatus.FAILED
        ],
        late=[r for r in rows if r.late or r.next_due_at is None],
        warnings=warnings,
    )


class JobsHealthPanel(Component):
    name = "ops_jobs_health"
    template_name = "ops/home_jobs.html"
    order = 40

    def get_context_data(self, parent_context=None):
        return {"health": jobs_health(timezone.now())}


@dataclass(frozen=True)
class Verification:
    run: JobRun | None  # the last finished verification, None if never
    stale: bool

    @property
    def broken(self) -> bool:
        return self.run is not None and self.run.status == RunStatus.FAILED


def last_verification(now: dt.datetime) -> Verification:
    """The access log's last finished verification (one query)."""
    run = (
        JobRun.objects.filter(job=VERIFY_JOB, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED])
        .order_by("-finished_at", "-pk")
        .first()
    )
    stale = run is None or run.finished_at is None or run.finished_at < now - VERIFY_STALE
    return Verification(run=run, stale=stale)


class AccessLogPanel(Component):
    name = "ops_access_log"
    template_name = "ops/home_access_log.html"
    order = 50

    def get_context_data(self, parent_context=None):
        return {
            "check": last_verification(timezone.now()),
            "job": VERIFY_JOB,
            "csrf_token": (parent_context or {}).get("csrf_token"),
        }
