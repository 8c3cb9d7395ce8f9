from __future__ import annotations

import pytest
from django.core.management import call_command

from plans.models import IntakeFacts, Intervention, Plan, PlanStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_draft_approved_and_under_review_plans_idempotently():
    call_command("seed_demo")
    call_command("seed_demo")
    draft = Plan.objects.get(person__user__username="learner1")
    approved = Plan.objects.get(person__user__username="learner2")
    assert (draft.status, approved.status) == (PlanStatus.DRAFT, PlanStatus.APPROVED)
    assert draft.goals.filter(domain="employment").exists()
    assert approved.approved_by.username == "counselor1"
    assert IntakeFacts.objects.count() == 3
    # learner3's plan is under review; signed questionnaire reviews drafted three more
    assert Plan.objects.count() == 7


def test_the_approved_demo_plan_books_the_upcoming_demo_lecture():
    call_command("seed_demo")
    approved = Plan.objects.get(person__user__username="learner2")
    series = Intervention.objects.filter(
        goal__plan=approved, kind="lecture_series", details__topic="legal"
    )
    assert series.exists()
    assert all(i.activated_at and i.lectures.exists() for i in series)
