"""The administrators' home: the scheduled jobs that need attention and the access log's last
verification, which is the ``verify_access_log`` job's last run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Action
from audit.services import record_access
from ops import tasks
from ops.models import JobRun, JobState, RunStatus
from ops.panels import VERIFY_JOB, jobs_health, last_verification
from ops.schedule import JOBS, JOBS_BY_NAME
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def _all_scheduled(now: dt.datetime) -> None:
    for job in JOBS:
        JobState.objects.update_or_create(
            name=job.name, defaults={"next_due_at": now + dt.timedelta(minutes=1)}
        )


def _run(job: str, status: str, at: dt.datetime) -> JobRun:
    return JobRun.objects.create(
        job=job, status=status, due_at=at, enqueued_at=at, started_at=at, finished_at=at
    )


def test_jobs_are_healthy_when_each_is_scheduled_and_none_failed():
    now = timezone.now()
    _all_scheduled(now)
    _run("escalate_alerts", RunStatus.SUCCEEDED, now)
    assert jobs_health(now).healthy


def test_a_failed_last_run_and_a_stopped_scheduler_show():
    now = timezone.now()
    _all_scheduled(now)
    _run("run_follow_up", RunStatus.SUCCEEDED, now - dt.timedelta(hours=2))
    _run("run_follow_up", RunStatus.FAILED, now - dt.timedelta(hours=1))
    _run("escalate_alerts", RunStatus.FAILED, now - dt.timedelta(hours=1))
    _run("escalate_alerts", RunStatus.SUCCEEDED, now)  # ran again since: fine
    health = jobs_health(now)
    assert [row.job.name for row in health.failing] == ["run_follow_up"]
    assert not health.warnings

    JobState.objects.filter(name="refresh_rollups").update(next_due_at=now - dt.timedelta(hours=1))
    late = jobs_health(now)
    assert [row.job.name for row in late.late] == ["refresh_rollups"] and late.warnings


def test_jobs_health_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    now = timezone.now()
    _all_scheduled(now)
    for hours in range(30):
        for job in JOBS:
            _run(job.name, RunStatus.SUCCEEDED, now - dt.timedelta(hours=hours))
    with django_assert_max_num_queries(4):
        assert jobs_health(now).healthy


def test_the_verification_job_records_the_checked_events(org):
    for number in range(3):
        record_access(action=Action.VIEW, user=org.counselor, object_type="x", object_id=number)
    assert last_verification(timezone.now()).run is None

    tasks.verify_access_log.call()

    check = last_verification(timezone.now())
    assert check.run.status == RunStatus.SUCCEEDED and not check.broken and not check.stale
    assert check.run.counts == {"events_verified": 3}
    assert VERIFY_JOB in JOBS_BY_NAME


def test_a_broken_chain_fails_the_verification_run(org):
    events = [record_access(action=Action.VIEW, user=org.counselor) for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_accessevent SET username = %s WHERE id = %s", ["someone", events[1].pk]
        )
    with pytest.raises(tasks.AccessLogBroken):
        tasks.verify_access_log.call()
    check = last_verification(timezone.now())
    assert check.broken and "tampered" in check.run.error


def test_an_old_verification_is_stale():
    _run(VERIFY_JOB, RunStatus.SUCCEEDED, timezone.now() - dt.timedelta(days=3))
    assert last_verification(timezone.now()).stale


def test_the_administrators_home_says_in_plain_words_who_starts_stopped_jobs(client, org):
    now = timezone.now()
    _all_scheduled(now)
    JobState.objects.filter(name="refresh_rollups").update(next_due_at=now - dt.timedelta(hours=1))
    JobRun.objects.create(
        job="refresh_rollups",
        status=RunStatus.QUEUED,
        due_at=now - dt.timedelta(hours=1),
        enqueued_at=now - dt.timedelta(hours=1),
    )
    login_staff(client, org.administrator)
    html = client.get("/admin/").content.decode()
    assert "定时任务没有在运行，请联系技术人员启动调度程序（见部署说明）。" in html
    assert "请联系技术人员启动任务处理程序" in html
    assert "manage.py" not in html
