"""Demo plans for ``seed_demo``: learner1 has a draft for counselor1 to approve (from intake
facts officer1 recorded), learner2 an approved plan to read and acknowledge. Idempotent:
persons who already have a plan are left alone."""

from __future__ import annotations

from django.db import transaction

from people.models import Person, User
from plans.approval import do_approve_plan
from plans.drafting import do_draft_plan, do_record_intake
from plans.models import Plan

FACTS = {
    "learner1": {
        "employment": "unemployed",
        "education": "junior",
        "housing": "stable",
        "finances": "strained",
        "family": "strained",
        "social_ties": "few",
        "attitude": "accepts",
    },
    "learner2": {
        "employment": "irregular",
        "education": "senior",
        "housing": "temporary",
        "finances": "stable",
        "family": "supportive",
        "social_ties": "supportive",
        "attitude": "ambivalent",
    },
}
APPROVED = ("learner2",)


@transaction.atomic
def seed_plans() -> list[tuple[str, str]]:
    officer = User.objects.filter(username="officer1").first()
    counselor = User.objects.filter(username="counselor1").first()
    if officer is None or counselor is None:
        return []
    for username, facts in FACTS.items():
        person = Person.objects.filter(user__username=username).first()
        if person is None or Plan.objects.filter(person=person).exists():
            continue
        do_record_intake(person, officer, facts, "示范数据")
        plan = Plan.objects.filter(person=person).first() or do_draft_plan(
            person, counselor, "示范数据"
        )
        if username in APPROVED and plan is not None:
            do_approve_plan(plan, counselor)
    return []
