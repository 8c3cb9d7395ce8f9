"""Subject-access export (``people.privacy.PERSON_DATA_COLLECTORS``)."""

from __future__ import annotations

from django.utils import timezone

from people.models import Person
from plans.history import goal_state
from plans.models import CounselingAppointment, IntakeFacts, Plan


def collect_plan_data(person: Person) -> dict:
    """Everything the plans app holds about a person."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    plans = []
    for plan in Plan.objects.filter(person=person).prefetch_related(
        "goals__interventions", "reviews", "notes", "changes"
    ):
        plans.append(
            {
                "version": plan.version,
                "status": plan.status,
                "phase": plan.phase,
                "support_intensity": plan.support_intensity,
                "intensity_explanation": plan.intensity_explanation,
                "needs": plan.needs,
                "approved_at": when(plan.approved_at),
                "acknowledged_at": when(plan.acknowledged_at),
                "closed_at": when(plan.closed_at),
                "goals": [
                    {
                        **goal_state(goal),
                        "interventions": [i.details for i in goal.interventions.all()],
                    }
                    for goal in plan.goals.all()
                ],
                "reviews": [
                    {
                        "scheduled_for": r.scheduled_for.isoformat(),
                        "held_at": when(r.held_at),
                        "decisions": r.decisions,
                        "notes": r.notes,
                    }
                    for r in plan.reviews.all()
                ],
                "notes": [{"text": n.text, "at": when(n.created_at)} for n in plan.notes.all()],
                "history": [
                    {"action": c.action, "reason": c.reason, "at": when(c.at), "diff": c.diff}
                    for c in plan.changes.all()
                ],
            }
        )
    return {
        "plans": {
            "plans": plans,
            "intake_facts": [
                {**f.as_dict(), "note": f.note, "recorded_at": when(f.recorded_at)}
                for f in IntakeFacts.objects.filter(person=person).order_by("recorded_at", "pk")
            ],
            "appointments": [
                {
                    "at": when(a.scheduled_at),
                    "status": a.status,
                    "note": a.note,
                }
                for a in CounselingAppointment.objects.filter(person=person)
            ],
        }
    }
