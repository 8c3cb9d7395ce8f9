"""The person's own plan, on a phone: plain, warm words, and a button to confirm it was read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import Action
from audit.services import access_logged
from lib.downloads import attachment
from people.privacy import person_of
from plans.access import learner_plan
from plans.approval import do_acknowledge
from plans.calendar import appointment_ics as appointment_ics_text
from plans.errors import PlanError
from plans.models import CounselingAppointment, GoalStatus
from plans.presentation import describe_intervention, instrument_titles


@login_required
def my_plan(request):
    if person_of(request.user) is None:
        raise Http404("Only supervised persons have a plan")
    plan = learner_plan(request.user)
    goals = []
    if plan is not None:
        titles = instrument_titles()
        now = timezone.now()
        goals = [
            {
                "goal": goal,
                "done": goal.status == GoalStatus.MET,
                "steps": [
                    {
                        "text": describe_intervention(i, titles, for_person=True),
                        "lectures": [
                            lecture for lecture in i.lectures.all() if not lecture.has_ended(now)
                        ],
                    }
                    for i in goal.interventions.all()
                ],
            }
            for goal in plan.goals.all()
            if goal.status != GoalStatus.CLOSED
        ]
    appointments = (
        CounselingAppointment.objects.for_learner(request.user)
        .upcoming(timezone.now())
        .select_related("person__office", "counselor")
    )
    return render(
        request,
        "plans/my_plan.html",
        {"plan": plan, "goals": goals, "appointments": list(appointments)},
    )


@login_required
@require_GET
def appointment_ics(request, pk: int):
    """One of the person's own appointments as a calendar file; anyone else's: 404."""
    scoped = CounselingAppointment.objects.for_learner(request.user).select_related(
        "person__office", "counselor"
    )
    appointment = access_logged(
        request, request.user, scoped, pk, person_field="person_id", action=Action.EXPORT
    )
    content = appointment_ics_text(appointment, host=request.get_host(), now=timezone.now())
    return attachment(
        content.encode(), "text/calendar; charset=utf-8", f"appointment-{appointment.pk}.ics"
    )


@login_required
@require_POST
def acknowledge(request):
    plan = learner_plan(request.user)
    if plan is None:
        raise Http404("No plan to confirm")
    try:
        do_acknowledge(plan, request.user)
    except PlanError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Thank you. Your counselor can see that you have read your plan.")
        )
    return redirect("plans_mine")
