"""Demo plans for ``seed_demo``: learner1 has a draft for counselor1 to approve (from intake
facts officer1 recorded), learner2 an approved plan to read and acknowledge, learner3 an
approved plan under review (its three-month review adjusted a goal: a revision waits for
approval). Signed questionnaire reviews draft more plans (``assessments.demo``).
Idempotent: persons who already have a plan are left alone."""

from __future__ import annotations

from django.db import transaction

from people.models import Person, User
from plans.approval import do_approve_plan
from plans.drafting import do_draft_plan, do_record_intake
from plans.followup import do_record_review
from plans.models import GoalStatus, Plan, ReviewDecision

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
    "learner3": {
        "employment": "unemployed",
        "education": "primary",
        "housing": "stable",
        "finances": "crisis",
        "family": "strained",
        "social_ties": "risky",
        "attitude": "accepts",
    },
}
APPROVED = ("learner2", "learner3")
UNDER_REVIEW = ("learner3",)


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
        if username in UNDER_REVIEW and plan is not None:
            _review_adjusting_one_goal(plan, counselor)
    return []


def _review_adjusting_one_goal(plan: Plan, counselor: User) -> None:
    active = [GoalStatus.OPEN, GoalStatus.ADJUSTED]
    goals = list(plan.goals.filter(status__in=active).order_by("pk"))
    if not goals:
        return
    decisions = {goal.pk: ReviewDecision.CONTINUE for goal in goals}
    decisions[goals[0].pk] = ReviewDecision.ADJUST
    do_record_review(
        plan,
        counselor,
        decisions,
        notes="三个月评估：就业目标进展较慢，调整为先参加职业技能培训。",
    )
