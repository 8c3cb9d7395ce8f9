from __future__ import annotations

import pytest
from django.core.management import call_command

from plans.models import IntakeFacts, Plan, PlanStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_draft_and_an_approved_plan_idempotently():
    call_command("seed_demo")
    call_command("seed_demo")
    draft = Plan.objects.get(person__user__username="learner1")
    approved = Plan.objects.get(person__user__username="learner2")
    assert (draft.status, approved.status) == (PlanStatus.DRAFT, PlanStatus.APPROVED)
    assert draft.goals.filter(domain="employment").exists()
    assert approved.approved_by.username == "counselor1"
    assert IntakeFacts.objects.count() == 2
    assert Plan.objects.count() == 2
