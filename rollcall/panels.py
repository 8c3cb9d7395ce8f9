"""The officer's home panel of recent roll-call gaps: who did not answer, answered late, or
was not clearly seen in the last ``GAP_DAYS`` days, and calls that wait for the officer's
confirmation. One query, at most ``PANEL_ROWS`` rows."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from rollcall.models import Confirmation, Result, RollCallTarget, TargetState

PANEL_ROWS = 8
GAP_DAYS = 14
WAITING = _("Joined: waiting for your confirmation")

NEEDS_A_LOOK = (
    Q(result__in=[Result.MISSED, Result.LATE])
    | Q(confirmation__in=[Confirmation.NOT_THE_PERSON, Confirmation.NO_VIDEO, Confirmation.OTHER])
    | Q(state=TargetState.JOINED, confirmation="")
)


def recent_gaps(user, now: dt.datetime) -> list[RollCallTarget]:
    """Roll-calls of the persons ``user`` sees, rung in the last ``GAP_DAYS`` days, that need
    a look: not answered, answered late, not clearly seen, or joined and not yet confirmed.
    Newest first; one query."""
    return list(
        RollCallTarget.objects.visible_to(user)
        .filter(NEEDS_A_LOOK, rung_at__gt=now - dt.timedelta(days=GAP_DAYS), rung_at__lte=now)
        .select_related("person")
        .order_by("-rung_at", "pk")[:PANEL_ROWS]
    )


def gap_label(target: RollCallTarget) -> str:
    """What needs a look, in words."""
    if target.state == TargetState.JOINED and not target.confirmation:
        return str(WAITING)
    if target.confirmation and target.confirmation != Confirmation.SEEN:
        return target.get_confirmation_display()
    return target.get_result_display()


class RecentRollCallGapsPanel(Component):
    name = "rollcall_recent_gaps"
    template_name = "rollcall/admin/home_recent_gaps.html"
    order = 45

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        rows = recent_gaps(self.user, timezone.now())
        for row in rows:
            row.gap_label = gap_label(row)
        return {"rows": rows, "days": GAP_DAYS}
