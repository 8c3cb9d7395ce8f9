"""What the scheduler and the worker write: one ``JobState`` per job of the table
(``ops/schedule.py``) with its next due time, and one ``JobRun`` per run."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.Model):
    """The scheduler's memory of one job. ``next_due_at`` is claimed by a conditional UPDATE
    (``ops.scheduler.enqueue_due``), so two schedulers never queue the same slot twice."""

    name = models.CharField(max_length=64, primary_key=True)
    next_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    """One run of a job: queued by the scheduler (or "run now"), run by the worker.
    ``counts`` holds what the job did (``{"sent": 3}``), labelled when shown."""

    job = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "-enqueued_at"], name="ops_jobrun_job_recent")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.enqueued_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
