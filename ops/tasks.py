"""The scheduled jobs as django-tasks tasks. Each wraps one service function of its app (the
same one its management command calls) and records the run in a ``JobRun`` row: the
scheduler creates the row and passes its id; a task enqueued by hand gets a row of its own.

With ``TASKS_BACKEND=database`` the worker (``manage.py db_worker``) runs them; with the
immediate backend they run inside whatever enqueued them (the scheduler). A failing job
re-raises after recording, so django-tasks marks its result failed and logs the traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import override
from django_tasks import task

from assessments.schedules import do_apply_schedules
from assessments.taking import escalate_overdue_alerts
from audit.services import verify_chain
from dossiers.services import do_compile_released
from learning.enrollment import do_apply_rules
from live.audience import do_resolve_started_audiences
from live.makeups import do_send_makeup_notices
from live.roster import do_close_expired_checks
from live.services import do_recompute_due, do_send_reminders
from ops.models import JobRun, RunStatus
from participation.followup import run_follow_up as do_run_follow_up
from participation.rollups import RefreshResult, refresh_all, refresh_recent
from rollcall.tick import do_draw_spot_checks, do_tick

logger = logging.getLogger(__name__)

Counts = dict[str, int]
# Runs and finished task results older than this are deleted by ``prune_job_runs``.
KEEP_RUNS = dt.timedelta(days=14)


def record_run(job: str, run_id: int | None, work: Callable[[], Counts]) -> Counts:
    """Run ``work`` as run ``run_id`` of ``job`` (a new run if ``None``), in the site's
    language (a worker has no request), and record its counts or its error."""
    now = timezone.now()
    if run_id is None:
        run_id = JobRun.objects.create(job=job, due_at=now, enqueued_at=now).pk
    JobRun.objects.filter(pk=run_id).update(status=RunStatus.RUNNING, started_at=now)
    try:
        with override(settings.LANGUAGE_CODE):
            counts = work()
    except Exception as error:
        JobRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    JobRun.objects.filter(pk=run_id).update(
        status=RunStatus.SUCCEEDED, finished_at=timezone.now(), counts=counts
    )
    return counts


def _rollup_counts(results: list[RefreshResult]) -> Counts:
    return {
        "months": len(results),
        "person_months": sum(r.persons for r in results),
        "office_rows": sum(r.offices for r in results),
    }


@task()
def close_presence_checks(run_id: int | None = None) -> Counts:
    return record_run(
        "close_presence_checks", run_id, lambda: {"checks_closed": do_close_expired_checks()}
    )


@task()
def rollcall_tick(run_id: int | None = None) -> Counts:
    return record_run("rollcall_tick", run_id, do_tick)


@task()
def draw_spot_checks(run_id: int | None = None) -> Counts:
    return record_run(
        "draw_spot_checks", run_id, lambda: {"spot_checks_planned": do_draw_spot_checks()}
    )


@task()
def recompute_attendance(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        resolved = do_resolve_started_audiences()
        return {"audiences_fixed": resolved, "lectures_computed": do_recompute_due()}

    return record_run("recompute_attendance", run_id, work)


@task()
def send_lecture_reminders(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        reminders = do_send_reminders()
        return {"reminders_sent": reminders, "makeup_notices_sent": do_send_makeup_notices()}

    return record_run("send_lecture_reminders", run_id, work)


@task()
def refresh_rollups(run_id: int | None = None) -> Counts:
    return record_run("refresh_rollups", run_id, lambda: _rollup_counts(refresh_recent()))


@task()
def refresh_rollups_all(run_id: int | None = None) -> Counts:
    return record_run("refresh_rollups_all", run_id, lambda: _rollup_counts(refresh_all()))


@task()
def escalate_alerts(run_id: int | None = None) -> Counts:
    return record_run(
        "escalate_alerts", run_id, lambda: {"alerts_escalated": escalate_overdue_alerts()}
    )


@task()
def run_follow_up(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        summary = do_run_follow_up(timezone.localdate())
        return {
            "follow_ups_opened": summary.opened,
            "follow_ups_resolved": summary.resolved,
            "persons_reminded": summary.reminded,
            "officer_tasks": summary.officer_tasks,
            "escalated": summary.escalated,
            "messages_sent": summary.deliveries,
        }

    return record_run("run_follow_up", run_id, work)


@task()
def apply_assessment_schedules(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        report = do_apply_schedules(timezone.localdate())
        if report.unknown_instruments:
            # Not an error of the run: the rules name a questionnaire nobody loaded yet.
            logger.warning("schedules name unloaded instruments: %s", report.unknown_instruments)
        return {
            "assignments_created": report.created,
            "already_assigned": report.already_assigned,
            "still_open": report.still_open,
            "retests_opened": report.opened,
            "instruments_not_loaded": len(report.unknown_instruments),
        }

    return record_run("apply_assessment_schedules", run_id, work)


@task()
def apply_enrollment_rules(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        report = do_apply_rules()
        return {"rules": report.rules, "persons": report.persons, "enrolled": report.enrolled}

    return record_run("apply_enrollment_rules", run_id, work)


@task()
def compile_released_dossiers(run_id: int | None = None) -> Counts:
    return record_run(
        "compile_released_dossiers", run_id, lambda: do_compile_released(timezone.localdate())
    )


@task()
def prune_job_runs(run_id: int | None = None) -> Counts:
    def work() -> Counts:
        cutoff = timezone.now() - KEEP_RUNS
        deleted, _ = JobRun.objects.filter(enqueued_at__lt=cutoff).exclude(pk=run_id).delete()
        if apps.is_installed("django_tasks_db"):
            # The database backend keeps every finished task result; its own pruning command.
            call_command("prune_db_task_results", min_age_days=KEEP_RUNS.days, verbosity=0)
        return {"runs_deleted": deleted}

    return record_run("prune_job_runs", run_id, work)


class AccessLogBroken(Exception):
    """The access log's chain does not verify: a record was altered, removed or reordered."""


@task()
def verify_access_log(run_id: int | None = None) -> Counts:
    """The ``verify_access_log`` command as a job: its run is the record of the last
    verification the administrators' home shows; a broken chain fails the run."""

    def work() -> Counts:
        report = verify_chain()
        if not report.ok:
            where = f" at event {report.broken_at}" if report.broken_at else ""
            raise AccessLogBroken(
                f"access log tampered{where}: {report.reason} "
                f"({report.checked} event(s) verified before it)"
            )
        return {"events_verified": report.checked}

    return record_run("verify_access_log", run_id, work)
