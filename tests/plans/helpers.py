"""Builders for plan tests (and the permission matrix's sample plan)."""

from __future__ import annotations

from assessments.taking import do_review
from plans.drafting import do_draft_plan, do_record_intake
from plans.models import IntakeFacts, Plan
from tests.assessments.helpers import submitted

PHQ9_MODERATE = [2, 1, 1, 1, 1, 1, 1, 2, 0]  # total 10, no critical item
PHQ9_SEVERE = [3, 3, 3, 2, 2, 2, 2, 2, 0]  # total 19: moderately severe
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # total 6

CALM_FACTS = {
    "employment": "employed",
    "education": "senior",
    "housing": "stable",
    "finances": "stable",
    "family": "supportive",
    "social_ties": "supportive",
    "attitude": "accepts",
}


def reviewed(person, counselor, answers: list[int], slug: str = "phq9"):
    """A submitted result of ``slug`` reviewed and signed by ``counselor`` (drafts a plan)."""
    result = submitted(person, answers, by=counselor, slug=slug)
    do_review(result, counselor, "Seen together.")
    return result


def intake(person, by, **values) -> IntakeFacts:
    return do_record_intake(person, by, {**CALM_FACTS, **values})


def drafted(org) -> Plan:
    """A draft of ``org.person``: unemployed, PHQ-9 moderate (10)."""
    intake(org.person, org.officer, employment="unemployed")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    return Plan.objects.get(person=org.person, status="draft")


def matrix_plan(org) -> dict[str, str]:
    """``params`` for the permission matrix: a draft plan of ``org.person`` (reused)."""
    plan = Plan.objects.filter(person=org.person).first()
    if plan is None:
        plan = do_draft_plan(org.person, org.counselor, "matrix sample")
    return {"pk": str(plan.pk)}


def matrix_appointment(org) -> dict[str, str]:
    """``params`` for the permission matrix: a counseling appointment of ``org.person``."""
    import datetime as dt

    from django.utils import timezone

    from plans.models import CounselingAppointment

    appointment = CounselingAppointment.objects.filter(person=org.person).first()
    if appointment is None:
        appointment = CounselingAppointment.objects.create(
            person=org.person,
            counselor=org.counselor,
            scheduled_at=timezone.now() + dt.timedelta(days=7),
        )
    return {"pk": str(appointment.pk)}
