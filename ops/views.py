"""The "Scheduled jobs" admin page (administrators only): each job of ``ops/schedule.py``
with its schedule, last run, last failure and next run; "Run now" queues one at once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from audit.decorators import deny
from ops.models import RunStatus
from ops.schedule import JOBS_BY_NAME
from ops.scheduler import do_enqueue, job_overview, uses_worker
from people.roles import Role, roles_of

# What a run's ``counts`` mean, in the reader's language (unknown keys are shown as they are).
COUNT_LABELS = {
    "checks_closed": gettext_lazy("presence checks closed"),
    "audiences_fixed": gettext_lazy("lecture audiences fixed"),
    "lectures_computed": gettext_lazy("lectures' attendance computed"),
    "reminders_sent": gettext_lazy("lecture reminders sent"),
    "makeup_notices_sent": gettext_lazy("makeup notices sent"),
    "months": gettext_lazy("months"),
    "person_months": gettext_lazy("person-months computed"),
    "office_rows": gettext_lazy("office figures"),
    "alerts_escalated": gettext_lazy("alerts escalated"),
    "follow_ups_opened": gettext_lazy("follow-ups opened"),
    "follow_ups_resolved": gettext_lazy("follow-ups resolved"),
    "persons_reminded": gettext_lazy("persons reminded"),
    "officer_tasks": gettext_lazy("tasks for case officers"),
    "escalated": gettext_lazy("escalated"),
    "messages_sent": gettext_lazy("messages sent"),
    "assignments_created": gettext_lazy("questionnaires assigned"),
    "already_assigned": gettext_lazy("already assigned"),
    "still_open": gettext_lazy("skipped, still open"),
    "retests_opened": gettext_lazy("planned retests opened"),
    "instruments_not_loaded": gettext_lazy("questionnaires not loaded"),
    "rules": gettext_lazy("rules"),
    "persons": gettext_lazy("persons"),
    "enrolled": gettext_lazy("enrollments created"),
    "runs_deleted": gettext_lazy("old records deleted"),
    "compiled": gettext_lazy("files compiled"),
    "failed": gettext_lazy("files failed"),
    "events_verified": gettext_lazy("access log records verified"),
}


def can_view_jobs(user) -> bool:
    return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))


def describe_counts(counts: dict) -> str:
    return _("; ").join(
        _("%(label)s: %(count)s") % {"label": COUNT_LABELS.get(key, key), "count": value}
        for key, value in counts.items()
    )


@require_http_methods(["GET"])
def job_list(request):
    if not can_view_jobs(request.user):
        raise deny(request, "scheduled jobs: administrators only")
    rows, warnings = job_overview()
    for row in rows:
        if row.last_run is not None:
            row.last_run.summary = describe_counts(row.last_run.counts)
    return render(
        request,
        "ops/jobs.html",
        {
            "rows": rows,
            "warnings": warnings,
            "uses_worker": uses_worker(),
            "statuses": RunStatus,
        },
    )


@require_POST
def run_now(request, name: str):
    """Queue ``name`` at once (its schedule is unchanged). Unknown job: 404."""
    if not can_view_jobs(request.user):
        raise deny(request, "scheduled jobs: administrators only")
    job = JOBS_BY_NAME.get(name)
    if job is None:
        raise Http404
    now = timezone.now()
    run = do_enqueue(job, due_at=now, now=now)
    if run.status == RunStatus.FAILED:
        messages.error(request, _("“%(job)s” failed: see its last error.") % {"job": job.title})
    elif run.status == RunStatus.SUCCEEDED:
        messages.success(request, _("“%(job)s” has run.") % {"job": job.title})
    else:
        messages.success(
            request, _("“%(job)s” is queued; the worker runs it shortly.") % {"job": job.title}
        )
    return redirect("ops_jobs")
