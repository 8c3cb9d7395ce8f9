"""The "Scheduled jobs" admin page: administrators only, in Chinese, each job's runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ops.models import JobRun, JobState, RunStatus
from ops.schedule import JOBS
from tests.factories import login_staff


@pytest.fixture
def administrator_client(client, org):
    login_staff(client, org.administrator)
    return client


def test_administrator_sees_each_job_in_chinese(
    administrator_client, django_assert_max_num_queries
):
    now = timezone.now()
    JobState.objects.create(name="refresh_rollups", next_due_at=now + dt.timedelta(minutes=3))
    JobRun.objects.create(
        job="refresh_rollups",
        due_at=now,
        enqueued_at=now - dt.timedelta(minutes=10),
        status=RunStatus.FAILED,
        finished_at=now - dt.timedelta(minutes=10),
        error="OperationalError: database is locked",
    )
    JobRun.objects.create(
        job="refresh_rollups",
        due_at=now,
        enqueued_at=now - dt.timedelta(minutes=2),
        started_at=now - dt.timedelta(minutes=2),
        finished_at=now - dt.timedelta(minutes=2) + dt.timedelta(seconds=3),
        status=RunStatus.SUCCEEDED,
        counts={"months": 2, "person_months": 14, "office_rows": 6},
    )
    with django_assert_max_num_queries(30):
        page = administrator_client.get(reverse("ops_jobs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "定时任务" in html
    for job in JOBS:
        assert f'data-testid="job-{job.name}"' in html
    row = html.split('data-testid="job-refresh_rollups"')[1].split("</tr>")[0]
    assert "每 5 分钟" in row
    assert "成功" in row
    assert "计算的人月数：14" in row
    assert "OperationalError: database is locked" in row
    assert "用时 3.0 秒" in row
    never = html.split('data-testid="job-run_follow_up"')[1].split("</tr>")[0]
    assert "每天 09:00" in never and "从未运行" in never and "调度程序启动时" in never
    # No scheduler has run: the page says so, in words a person can act on.
    assert "定时任务没有在运行，请联系技术人员启动调度程序（见部署说明）" in html
    assert "run_scheduler" not in html  # a command is for the technical staff (docs/deploy.md)


def test_only_administrators_open_it(client, org):
    for user in (org.officer, org.counselor, org.lecturer, org.editor):
        client.logout()
        login_staff(client, user)
        response = client.get(reverse("ops_jobs"))
        assert response.status_code in (302, 403), user
        assert response.status_code == 403 or response["Location"] == "/admin/"


def test_run_now_runs_the_job(administrator_client):
    response = administrator_client.post(reverse("ops_run_now", args=["escalate_alerts"]))
    assert response.status_code == 302
    run = JobRun.objects.get(job="escalate_alerts")
    assert run.status == RunStatus.SUCCEEDED
    assert run.counts == {"alerts_escalated": 0}


def test_run_now_refuses_others_and_unknown_jobs(client, administrator_client, org):
    unknown = administrator_client.post(reverse("ops_run_now", args=["no_such_job"]))
    assert unknown.status_code == 404
    client.logout()
    login_staff(client, org.officer)
    client.post(reverse("ops_run_now", args=["escalate_alerts"]))
    assert not JobRun.objects.exists()
