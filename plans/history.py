"""How every change to a plan is written down: the reason it must give, the revision it bumps,
the ``PlanChange`` entry (who, when, why, what) and the access-log event it appends."""

from __future__ import annotations

from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record_access
from plans.errors import PlanError
from plans.models import Goal, Intervention, Plan, PlanChange

TEXT_MAX = 500


def check_reason(reason: str) -> str:
    """The stripped reason for a change; refused when empty."""
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Say why you are making this change."))
    return reason[:TEXT_MAX]


def record_change(plan: Plan, by, action: str, reason: str, diff: dict | None = None) -> PlanChange:
    """Append the history entry and the access-log event of a change to ``plan``."""
    change = PlanChange.objects.create(
        plan=plan,
        revision=plan.revision,
        by=by,
        action=action,
        reason=(reason or "")[:TEXT_MAX],
        diff=diff or {},
    )
    record_access(
        None,
        action=Action.CHANGE,
        user=by,
        username="system" if by is None else "",
        obj=plan,
        person_id=plan.person_id,
        detail=f"plan {action}: {reason}"[:255],
    )
    return change


def bump_revision(plan: Plan, *fields: str) -> None:
    """Save ``fields`` of ``plan`` with the next revision, so a stale edit is refused."""
    plan.revision += 1
    plan.save(update_fields=["revision", "updated_at", *fields])


def goal_state(goal: Goal) -> dict:
    return {
        "domain": goal.domain,
        "title": goal.title,
        "target": goal.target,
        "due": goal.due.isoformat(),
        "status": goal.status,
    }


def intervention_state(intervention: Intervention) -> dict:
    return {"goal": intervention.goal_id, **intervention.details}
