"""The scheduler queues due jobs and no others; the worker runs them and records each run."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from ops import scheduler, tasks
from ops.models import JobRun, JobState, RunStatus
from ops.schedule import JOBS, JOBS_BY_NAME

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
BEIJING = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2027, 3, 1, 10, 2, 30, tzinfo=BEIJING)


@pytest.fixture
def queue(settings):
    """Tasks are only queued (as the database backend does for ``db_worker``), not run."""
    settings.TASKS = DUMMY
    from django_tasks import default_task_backend

    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


def all_due_later(**due: dt.datetime) -> None:
    """Every job due in an hour, except those given (name=due time)."""
    for job in JOBS:
        JobState.objects.update_or_create(
            name=job.name, defaults={"next_due_at": due.get(job.name, NOW + dt.timedelta(hours=1))}
        )


def test_a_fresh_scheduler_queues_every_job_once(db, queue):
    runs = scheduler.enqueue_due(NOW)
    assert sorted(r.job for r in runs) == sorted(job.name for job in JOBS)
    assert {r.status for r in runs} == {RunStatus.QUEUED}
    assert len(queue.results) == len(JOBS)
    assert scheduler.enqueue_due(NOW + dt.timedelta(seconds=5)) == []
    state = JobState.objects.get(name="refresh_rollups")
    assert state.next_due_at == dt.datetime(2027, 3, 1, 10, 5, tzinfo=BEIJING)


def test_it_queues_the_due_jobs_and_not_the_others(db, queue):
    all_due_later(
        close_presence_checks=NOW - dt.timedelta(seconds=1),
        run_follow_up=NOW,
        escalate_alerts=NOW + dt.timedelta(seconds=1),
    )
    runs = scheduler.enqueue_due(NOW)
    assert sorted(r.job for r in runs) == ["close_presence_checks", "run_follow_up"]
    assert sorted(r.task.name for r in queue.results) == ["close_presence_checks", "run_follow_up"]
    queued = {r.task.name: r.args for r in queue.results}
    assert queued["run_follow_up"] == [JobRun.objects.get(job="run_follow_up").pk]
    assert JobState.objects.get(name="run_follow_up").next_due_at == dt.datetime(
        2027, 3, 2, 9, 0, tzinfo=BEIJING
    )
    assert JobRun.objects.get(job="run_follow_up").due_at == NOW


def test_after_a_pause_an_overdue_job_runs_once(db, queue):
    all_due_later(close_presence_checks=NOW - dt.timedelta(hours=5))
    assert len(scheduler.enqueue_due(NOW)) == 1
    assert scheduler.enqueue_due(NOW + dt.timedelta(seconds=20)) == []
    JobRun.objects.update(status=RunStatus.SUCCEEDED)  # the worker has run it
    assert [r.job for r in scheduler.enqueue_due(NOW + dt.timedelta(seconds=31))] == [
        "close_presence_checks"
    ]


def test_while_a_run_waits_for_the_worker_its_slots_are_skipped_not_piled_up(db, queue):
    all_due_later(close_presence_checks=NOW)
    for minute in range(10):  # ten minutes without a worker
        scheduler.enqueue_due(NOW + dt.timedelta(minutes=minute))
    assert JobRun.objects.filter(job="close_presence_checks").count() == 1
    assert JobState.objects.get(name="close_presence_checks").next_due_at == dt.datetime(
        2027, 3, 1, 10, 12, tzinfo=BEIJING
    )
    JobRun.objects.filter(job="close_presence_checks").update(status=RunStatus.RUNNING)
    assert [r.job for r in scheduler.enqueue_due(NOW + dt.timedelta(minutes=10))] == [
        "close_presence_checks"
    ]


def test_a_slot_is_claimed_by_one_scheduler_only(db):
    all_due_later(escalate_alerts=NOW)
    job = JOBS_BY_NAME["escalate_alerts"]
    assert scheduler.claim(job, NOW, NOW) is True
    # A second scheduler that read the same due time before the first one moved it:
    assert scheduler.claim(job, NOW, NOW) is False
    assert JobState.objects.get(name=job.name).next_due_at == NOW.replace(minute=15, second=0)


def test_the_worker_runs_a_job_and_records_success(db):
    """With the immediate backend the task runs as soon as it is queued, as a worker would."""
    all_due_later(refresh_rollups=NOW)
    (run,) = scheduler.enqueue_due(NOW)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert run.counts == {"months": 2, "person_months": 0, "office_rows": 0}
    assert run.error == ""


def test_a_failing_job_is_recorded_and_the_others_still_run(db, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "escalate_overdue_alerts", boom)
    all_due_later(escalate_alerts=NOW, close_presence_checks=NOW)
    runs = {r.job: r for r in scheduler.enqueue_due(NOW)}
    assert runs["escalate_alerts"].status == RunStatus.FAILED
    assert runs["escalate_alerts"].error == "RuntimeError: database went away"
    assert runs["escalate_alerts"].finished_at is not None
    assert runs["close_presence_checks"].status == RunStatus.SUCCEEDED
    # django-tasks itself sees the failure (the worker logs the traceback).
    result = tasks.escalate_alerts.enqueue()
    assert result.status == "FAILED"
    assert JobRun.objects.filter(job="escalate_alerts", status=RunStatus.FAILED).count() == 2


def test_a_job_that_cannot_be_queued_says_so(db, monkeypatch):
    job = JOBS_BY_NAME["run_follow_up"]

    def refuse(*args, **kwargs):
        raise ConnectionError("queue unavailable")

    monkeypatch.setattr(type(job.task), "enqueue", refuse)
    run = scheduler.do_enqueue(job, due_at=NOW, now=NOW)
    assert run.status == RunStatus.FAILED
    assert "queue unavailable" in run.error


def test_prune_deletes_old_runs_only(db):
    old = JobRun.objects.create(
        job="refresh_rollups", due_at=NOW, enqueued_at=timezone.now() - dt.timedelta(days=15)
    )
    recent = JobRun.objects.create(
        job="refresh_rollups", due_at=NOW, enqueued_at=timezone.now() - dt.timedelta(days=1)
    )
    assert tasks.prune_job_runs.call() == {"runs_deleted": 1}
    assert not JobRun.objects.filter(pk=old.pk).exists()
    assert JobRun.objects.filter(pk=recent.pk).exists()


def test_run_scheduler_once_queues_and_exits(db, queue, capsys):
    call_command("run_scheduler", "--once")
    out = capsys.readouterr().out
    assert "refresh_rollups: queued" in out
    assert JobRun.objects.count() == len(JOBS)


def test_it_sleeps_until_the_next_due_job(db):
    all_due_later(close_presence_checks=NOW + dt.timedelta(seconds=12))
    assert scheduler.seconds_to_sleep(NOW) == 12
    all_due_later(close_presence_checks=NOW - dt.timedelta(seconds=12))
    assert scheduler.seconds_to_sleep(NOW) == 1
    JobState.objects.all().delete()
    assert scheduler.seconds_to_sleep(NOW) == scheduler.MAX_SLEEP.total_seconds()
