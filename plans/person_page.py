"""What plans shows on the staff person page (``people.person_page``): the plan in force (or
the draft) with its phase and goals, the counseling appointments, and their events.

The plans rule decides who sees it (``plan_persons``: own caseload, officers' offices and own
cases, administrators with ``plans.view_bureau_plans``), as on the plans pages."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.models import Person, User
from people.person_page import (
    Fact,
    TimelineEntry,
    Tone,
    register_section,
    register_summary_fact,
    register_timeline_source,
)
from plans.models import (
    VIEW_BUREAU_PLANS,
    AppointmentStatus,
    CounselingAppointment,
    GoalStatus,
    Plan,
    PlanChange,
    PlanStatus,
    plan_persons,
)

RECENT_APPOINTMENTS = 5
APPOINTMENT_TONE = {
    AppointmentStatus.ATTENDED: Tone.GOOD,
    AppointmentStatus.MISSED: Tone.BAD,
    AppointmentStatus.CANCELLED: Tone.NEUTRAL,
    AppointmentStatus.SCHEDULED: Tone.NEUTRAL,
}


def _may_see(person: Person, user: User) -> bool:
    if not (user.has_perm("plans.view_plan") or user.has_perm(VIEW_BUREAU_PLANS)):
        return False
    return plan_persons(user).filter(pk=person.pk).exists()


def _current_plan(person: Person) -> Plan | None:
    """The approved plan, else the draft (a person has at most one of each)."""
    plans = (
        Plan.objects.filter(person=person)
        .current()
        .annotate(
            goals_total=Count("goals"),
            goals_met=Count("goals", filter=Q(goals__status=GoalStatus.MET)),
        )
        .order_by("status", "-version")  # "approved" sorts before "draft"
    )
    return plans.first()


def plan_facts(person: Person, user: User) -> list[Fact]:
    if not _may_see(person, user):
        return []
    plan = _current_plan(person)
    if plan is None:
        facts = [Fact(_("Plan"), _("none yet"), Tone.WARN)]
    elif plan.status == PlanStatus.DRAFT:
        url = reverse("plans_plan_detail", args=[plan.pk])
        facts = [Fact(_("Plan"), _("draft, not approved"), Tone.WARN, url)]
    else:
        url = reverse("plans_plan_detail", args=[plan.pk])
        facts = [Fact(_("Phase"), plan.get_phase_display(), Tone.NEUTRAL, url)]
    upcoming = (
        CounselingAppointment.objects.filter(person=person)
        .upcoming(timezone.now())
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    if upcoming is not None:
        when = timezone.localtime(upcoming)
        facts.append(Fact(_("Next counseling"), f"{when:%Y-%m-%d %H:%M}"))
    return facts


def plan_section(person: Person, user: User) -> dict | None:
    if not _may_see(person, user):
        return None
    now = timezone.now()
    appointments = CounselingAppointment.objects.filter(person=person).select_related("counselor")
    return {
        "person": person,
        "plan": _current_plan(person),
        "plans_url": reverse("plans_person", args=[person.pk]),
        "upcoming": list(appointments.upcoming(now).order_by("scheduled_at")[:3]),
        "recent": list(
            appointments.filter(scheduled_at__lt=now).order_by("-scheduled_at")[
                :RECENT_APPOINTMENTS
            ]
        ),
    }


def plan_events(person: Person, user: User, limit: int) -> list[TimelineEntry]:
    if not _may_see(person, user):
        return []
    entries = [
        TimelineEntry(
            change.at,
            "plan",
            _("Plan v%(version)s: %(action)s")
            % {"version": change.plan.version, "action": change.get_action_display()},
            change.reason[:120],
            reverse("plans_plan_detail", args=[change.plan_id]),
        )
        for change in PlanChange.objects.filter(plan__person=person)
        .select_related("plan")
        .only("at", "action", "reason", "plan__version")
        .order_by("-at", "-pk")[:limit]
    ]
    now = timezone.now()
    entries += [
        TimelineEntry(
            appointment.scheduled_at,
            "plan",
            _("Counseling appointment: %(status)s") % {"status": appointment.get_status_display()},
            appointment.counselor.get_full_name(),
            "",
            APPOINTMENT_TONE.get(appointment.status, Tone.NEUTRAL),
        )
        for appointment in CounselingAppointment.objects.filter(
            person=person, scheduled_at__lte=now
        )
        .select_related("counselor")
        .order_by("-scheduled_at")[:limit]
    ]
    return entries


def register() -> None:
    register_summary_fact("plan", 5, plan_facts)
    register_section(
        "plan",
        50,
        gettext_lazy("Plan and appointments"),
        plan_section,
        "plans/person_page/plan.html",
    )
    register_timeline_source("plan", 50, gettext_lazy("Plan and counseling"), plan_events)
