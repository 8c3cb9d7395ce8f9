"""What the home page shows a signed-in user: for a supervised person, the cards every app
registers (``people.cards``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from people.cards import learner_cards
from people.models import Person
from people.roles import Role, is_staff_member, roles_of


@dataclass
class Dashboard:
    kind: str  # "anonymous", "learner", "staff" or "none"
    person: Person | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    cards: dict[str, Any] = field(default_factory=dict)  # name → data, see ``people.cards``


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
        return Dashboard(
            kind="learner", person=person, roles=roles, cards=learner_cards(user, person)
        )
    return Dashboard(kind="none", roles=roles)
