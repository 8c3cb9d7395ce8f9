"""The scheduler: queue the jobs of ``ops.schedule.JOBS`` that are due, and what the
"Scheduled jobs" page shows. ``manage.py run_scheduler`` calls ``enqueue_due`` in a loop.

A slot is claimed by one conditional UPDATE of ``JobState.next_due_at`` (from the value read
to the next slot after now): of two schedulers, only one queues it. The run row is created
before the task is queued, so the page shows "waiting for the worker" when no worker runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ops.models import JobRun, JobState, RunStatus
from ops.schedule import JOBS, Job

logger = logging.getLogger(__name__)

# The longest the scheduler sleeps between passes (it wakes earlier for a due job).
MAX_SLEEP = dt.timedelta(seconds=30)
# A run queued longer than this, or a next run overdue by this much, means a process is down.
LATE = dt.timedelta(minutes=3)


def do_enqueue(job: Job, *, due_at: dt.datetime, now: dt.datetime) -> JobRun:
    """Record a run of ``job`` and queue its task. If even queuing fails, the run ends as
    failed and says so (the scheduler goes on with the other jobs)."""
    run = JobRun.objects.create(job=job.name, due_at=due_at, enqueued_at=now)
    try:
        job.task.enqueue(run.pk)
    except Exception as error:
        logger.exception("job %s could not be queued", job.name)
        JobRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"not queued: {type(error).__name__}: {error}"[:2000],
        )
    run.refresh_from_db()
    return run


def enqueue_due(now: dt.datetime | None = None) -> list[JobRun]:
    """Queue every job due at ``now`` (never run, or its ``next_due_at`` reached) and move its
    ``next_due_at`` to the next slot after ``now``; a job with a run still waiting for the
    worker skips the slot. Returns the runs queued."""
    now = now or timezone.now()
    states = dict(JobState.objects.filter(name__in=_names()).values_list("name", "next_due_at"))
    JobState.objects.bulk_create(
        [JobState(name=job.name) for job in JOBS if job.name not in states], ignore_conflicts=True
    )
    waiting = set(
        JobRun.objects.filter(job__in=_names(), status=RunStatus.QUEUED).values_list(
            "job", flat=True
        )
    )
    runs = []
    for job in JOBS:
        due = states.get(job.name)
        if due is not None and due > now:
            continue
        # A run still waiting for the worker does this slot's work when it starts: queuing
        # another would pile up a copy per minute while no worker runs.
        if claim(job, due, now) and job.name not in waiting:
            runs.append(do_enqueue(job, due_at=due or now, now=now))
    return runs


def claim(job: Job, due: dt.datetime | None, now: dt.datetime) -> bool:
    """Move ``job``'s next run from ``due`` (as read) to the first slot after ``now``; False
    when another scheduler has already moved it (then it queued this slot)."""
    return bool(
        JobState.objects.filter(name=job.name, next_due_at=due).update(
            next_due_at=job.schedule.next_after(now)
        )
    )


def seconds_to_sleep(now: dt.datetime | None = None) -> float:
    """Until the next due job, at most ``MAX_SLEEP``, at least one second."""
    now = now or timezone.now()
    soonest = JobState.objects.filter(name__in=_names()).aggregate(at=Min("next_due_at"))["at"]
    wait = MAX_SLEEP if soonest is None else min(MAX_SLEEP, soonest - now)
    return max(1.0, wait.total_seconds())


def _names() -> list[str]:
    return [job.name for job in JOBS]


# --- The page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRow:
    job: Job
    schedule: str
    next_due_at: dt.datetime | None
    last_run: JobRun | None
    last_failure: JobRun | None
    late: bool


def job_overview(now: dt.datetime | None = None) -> tuple[list[JobRow], list[str]]:
    """Each job of the table with its last run, last failure and next run (three queries),
    and the warnings a person should act on (scheduler or worker not running)."""
    now = now or timezone.now()
    names = _names()
    next_due = dict(JobState.objects.filter(name__in=names).values_list("name", "next_due_at"))
    latest = (
        JobRun.objects.filter(job__in=names)
        .values("job")
        .annotate(last=Max("pk"), failed=Max("pk", filter=Q(status=RunStatus.FAILED)))
    )
    wanted = {row["job"]: (row["last"], row["failed"]) for row in latest}
    runs = JobRun.objects.in_bulk([pk for pair in wanted.values() for pk in pair if pk])
    rows = []
    for job in JOBS:
        last_pk, failed_pk = wanted.get(job.name, (None, None))
        due = next_due.get(job.name)
        rows.append(
            JobRow(
                job=job,
                schedule=job.schedule.describe(),
                next_due_at=due,
                last_run=runs.get(last_pk),
                last_failure=runs.get(failed_pk),
                late=due is not None and due < now - LATE,
            )
        )
    warnings = []
    if any(row.next_due_at is None or row.late for row in rows):
        # Read by administrators, who do not run commands: the command is in docs/deploy.md.
        warnings.append(
            _(
                "The scheduled jobs are not running. Please ask the technical staff to start "
                "the scheduler (see the deployment guide)."
            )
        )
    waiting = JobRun.objects.filter(status=RunStatus.QUEUED, enqueued_at__lt=now - LATE)
    if waiting.exists():
        warnings.append(
            _(
                "Scheduled jobs are waiting to be done. Please ask the technical staff to "
                "start the task worker (see the deployment guide)."
            )
        )
    return rows, warnings


def uses_worker() -> bool:
    """True when tasks are queued in the database for ``db_worker``; with the immediate
    backend the scheduler runs each job itself."""
    return settings.TASKS_BACKEND == "database"
