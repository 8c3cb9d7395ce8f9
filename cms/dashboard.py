"""What the home page shows a signed-in user.

Each later module (courses, lectures, tests, plans) fills its own card; until then the card
says plainly that it is not available yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from people.models import Person
from people.roles import Role, is_staff_member, roles_of


@dataclass
class Dashboard:
    kind: str  # "anonymous", "learner", "staff" or "none"
    person: Person | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    questionnaires: list = field(default_factory=list)
    study: Any = None  # learning.services.MonthSummary: the hours and courses cards
    lectures: list = field(default_factory=list)  # live.services.upcoming_for_person
    makeups: list = field(default_factory=list)  # live.makeups.open_makeups_for_person
    plan: Any = None  # plans.models.Plan in force (approved), or None


def dashboard_for(user) -> Dashboard:
    if not getattr(user, "is_authenticated", False):
        return Dashboard(kind="anonymous")
    roles = roles_of(user)
    if is_staff_member(user):
        return Dashboard(kind="staff", roles=roles)
    if Role.LEARNER in roles:
        person = (
            Person.objects.visible_to(user)
            .filter(user=user)
            .select_related("office", "case_officer")
            .first()
        )
        # assessments and learning build on cms, not back
        from assessments.services import learner_questionnaires
        from learning.services import dashboard_cards
        from live.makeups import open_makeups_for_person
        from live.services import upcoming_for_person
        from plans.models import Plan

        return Dashboard(
            kind="learner",
            person=person,
            roles=roles,
            study=dashboard_cards(person),
            questionnaires=learner_questionnaires(user) if person else [],
            lectures=upcoming_for_person(person) if person else [],
            makeups=open_makeups_for_person(person) if person else [],
            plan=Plan.objects.for_learner(user).only("pk", "acknowledged_at").first()
            if person
            else None,
        )
    return Dashboard(kind="none", roles=roles)
