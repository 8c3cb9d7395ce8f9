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
    Visit,
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
UPCOMING_APPOINTMENTS = 3
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


def _upcoming_appointments(person: Person) -> list[CounselingAppointment]:
    return list(
        CounselingAppointment.objects.filter(person=person)
        .select_related("counselor")
        .upcoming(timezone.now())
        .order_by("scheduled_at")[:UPCOMING_APPOINTMENTS]
    )


def plan_facts(visit: Visit) -> list[Fact]:
    if not visit.allows(_may_see):
        return []
    plan = visit.once(_current_plan)
    if plan is None:
        facts = [Fact(_("Plan"), _("none yet"), Tone.WARN)]
    elif plan.status == PlanStatus.DRAFT:
        url = reverse("plans_plan_detail", args=[plan.pk])
        facts = [Fact(_("Plan"), _("draft, not approved"), Tone.WARN, url)]
    else:
        url = reverse("plans_plan_detail", args=[plan.pk])
        facts = [Fact(_("Phase"), plan.get_phase_display(), Tone.NEUTRAL, url)]
    upcoming = visit.once(_upcoming_appointments)
    if upcoming:
        when = timezone.localtime(upcoming[0].scheduled_at)
        facts.append(Fact(_("Next counseling"), f"{when:%Y-%m-%d %H:%M}"))
    return facts


def plan_section(visit: Visit) -> dict | None:
    if not visit.allows(_may_see):
        return None
    person = visit.person
    now = timezone.now()
    appointments = CounselingAppointment.objects.filter(person=person).select_related("counselor")
    return {
        "person": person,
        "plan": visit.once(_current_plan),
        "plans_url": reverse("plans_person", args=[person.pk]),
        "upcoming": visit.once(_upcoming_appointments),
        "recent": list(
            appointments.filter(scheduled_at__lt=now).order_by("-scheduled_at")[
                :RECENT_APPOINTMENTS
            ]
        ),
    }


def plan_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    if not visit.allows(_may_see):
        return []
    person = visit.person
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
