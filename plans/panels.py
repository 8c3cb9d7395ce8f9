"""The admin home's plan panels for counselors (``wagtail_hooks.py``): today's and this
week's counseling appointments, and the plans whose review is due. Each reads one query
whatever the number of persons."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from wagtail.admin.ui.components import Component

from plans.models import (
    AppointmentStatus,
    CounselingAppointment,
    Plan,
    PlanReview,
    PlanStatus,
    plan_persons,
)

PANEL_ROWS = 10
WEEK = dt.timedelta(days=7)
# A review due within this many days is listed (overdue ones always are).
REVIEW_HORIZON = dt.timedelta(days=14)


def week_appointments(user, now: dt.datetime) -> list[CounselingAppointment]:
    """The counselor's own scheduled appointments from the start of today to a week ahead,
    of persons whose plans they see (``plan_persons``), soonest first; each with
    ``is_today``."""
    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = list(
        CounselingAppointment.objects.filter(
            counselor=user,
            person__in=plan_persons(user).values("pk"),
            status=AppointmentStatus.SCHEDULED,
            scheduled_at__gte=day_start,
            scheduled_at__lt=day_start + WEEK,
        )
        .select_related("person__office")
        .order_by("scheduled_at", "pk")[:PANEL_ROWS]
    )
    today = local.date()
    for row in rows:
        row.is_today = timezone.localtime(row.scheduled_at).date() == today
    return rows


class AppointmentsPanel(Component):
    name = "plans_appointments"
    template_name = "plans/admin/home_appointments.html"
    order = 30

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": week_appointments(self.user, timezone.now())}


def reviews_due(user, today: dt.date) -> list[PlanReview]:
    """Reviews not yet held of approved plans the user sees (``Plan.objects.visible_to``),
    scheduled up to ``REVIEW_HORIZON`` ahead, overdue first; each with ``overdue``."""
    rows = list(
        PlanReview.objects.filter(
            held_at__isnull=True,
            scheduled_for__lte=today + REVIEW_HORIZON,
            plan__in=Plan.objects.visible_to(user).filter(status=PlanStatus.APPROVED),
        )
        .select_related("plan__person")
        .order_by("scheduled_for", "pk")[:PANEL_ROWS]
    )
    for row in rows:
        row.overdue = row.scheduled_for < today
    return rows


class PlansDuePanel(Component):
    name = "plans_reviews_due"
    template_name = "plans/admin/home_reviews_due.html"
    order = 40

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": reviews_due(self.user, timezone.localdate())}
