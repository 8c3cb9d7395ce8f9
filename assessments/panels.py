"""The admin home's questionnaire panels, shown by role (``wagtail_hooks.py``).

counselor → open critical alerts first, each with the time left before it escalates to the
bureau's administrators (``taking.escalate_overdue_alerts``), then the review queue;
administrator → the alerts that escalated. Each reads a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from wagtail.admin.ui.components import Component

from assessments.models import Alert, Result
from assessments.taking import ESCALATE_AFTER
from people.models import Caseload, Person

PANEL_ROWS = 10


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    escalates_at: dt.datetime
    minutes_left: int  # 0 once escalated or overdue

    @property
    def hours_left(self) -> int:
        return self.minutes_left // 60

    @property
    def minutes_part(self) -> int:
        return self.minutes_left % 60


def open_alert_rows(user, now: dt.datetime) -> list[AlertRow]:
    """The user's unacknowledged alerts, those escalating soonest first (two queries)."""
    alerts = (
        Alert.objects.visible_to(user)
        .unacknowledged()
        .select_related("person", "result__instrument_version__instrument")
        .order_by("created_at", "pk")[:PANEL_ROWS]
    )
    rows = []
    for alert in alerts:
        escalates_at = alert.created_at + ESCALATE_AFTER
        left = max(0, int((escalates_at - now).total_seconds() // 60))
        rows.append(AlertRow(alert=alert, escalates_at=escalates_at, minutes_left=left))
    return rows


class OpenAlertsPanel(Component):
    name = "assessments_open_alerts"
    template_name = "assessments/admin/home_alerts.html"
    order = 5  # before every other panel, whatever other roles the counselor holds

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": open_alert_rows(self.user, timezone.now())}


def review_queue_rows(user) -> tuple[list[Result], int]:
    """The first results waiting for the user's signed review (critical first, the queue's
    order) and how many wait in all: two queries at most."""
    queue = Result.objects.visible_to(user).review_queue()
    rows = list(queue.select_related("person", "instrument_version__instrument")[:PANEL_ROWS])
    total = queue.count() if len(rows) == PANEL_ROWS else len(rows)
    return rows, total


class ReviewQueuePanel(Component):
    name = "assessments_review_queue"
    template_name = "assessments/admin/home_review_queue.html"
    order = 20

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        rows, total = review_queue_rows(self.user)
        return {"rows": rows, "total": total, "more": total - len(rows)}


def escalated_alert_rows(user) -> list[Alert]:
    """Escalated alerts still unacknowledged of the persons the user sees
    (``Person.objects.visible_to``, the bureau for an administrator), oldest first, each with
    the person's counselors: two queries. No answer, score or questionnaire: only who and
    since when, so the administrator can call the counselor."""
    return list(
        Alert.objects.unacknowledged()
        .filter(escalated_at__isnull=False, person__in=Person.objects.visible_to(user))
        .select_related("person__office")
        .prefetch_related(
            Prefetch(
                "person__caseloads",
                queryset=Caseload.objects.select_related("counselor").order_by("pk"),
            )
        )
        .order_by("created_at", "pk")[:PANEL_ROWS]
    )


class EscalatedAlertsPanel(Component):
    name = "assessments_escalated_alerts"
    template_name = "assessments/admin/home_escalated_alerts.html"
    order = 20

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"alerts": escalated_alert_rows(self.user)}
