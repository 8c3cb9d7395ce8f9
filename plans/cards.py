"""The learner's home page card of this app (registered in ``plans.apps``)."""

from __future__ import annotations

from plans.models import Plan


def plan_card(user, person) -> Plan | None:
    """The plan in force (approved), or None."""
    if person is None:
        return None
    return Plan.objects.for_learner(user).only("pk", "acknowledged_at").first()
