"""The admin home panel for counselors: open critical alerts first, each with the time left
before it escalates to the bureau's administrators (``taking.escalate_overdue_alerts``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from wagtail.admin.ui.components import Component

from assessments.models import Alert
from assessments.taking import ESCALATE_AFTER

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
    order = 10

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": open_alert_rows(self.user, timezone.now())}
