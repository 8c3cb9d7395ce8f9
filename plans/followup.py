"""After approval: progress notes, the outcome of counseling appointments, plan reviews
(a decision per goal, which may start a revision) and closing the plan."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from people.models import User
from plans.access import is_own_counselor, require_counselor
from plans.activation import cancel_retests
from plans.drafting import do_revise_plan
from plans.errors import PlanError, StaleRevision
from plans.history import bump_revision, check_reason, record_change
from plans.models import (
    AppointmentStatus,
    ChangeAction,
    CounselingAppointment,
    Goal,
    GoalStatus,
    Intervention,
    Plan,
    PlanReview,
    PlanStatus,
    ProgressNote,
    ReviewDecision,
    ReviewReason,
)
from plans.schedule import next_review, phase_for


def schedule_review(plan: Plan, after: dt.date) -> PlanReview | None:
    """The plan's next review after ``after``, unless one is already scheduled."""
    if plan.reviews.filter(held_at__isnull=True).exists():
        return None
    person = plan.person
    day, reason = next_review(person.supervision_start, person.supervision_end, after)
    return PlanReview.objects.create(plan=plan, scheduled_for=day, reason=reason)


def do_add_note(plan: Plan, by: User, text: str, goal: Goal | None = None) -> ProgressNote:
    require_counselor(plan, by)
    text = (text or "").strip()
    if not text:
        raise PlanError(_("The note is empty."))
    if goal is not None and goal.plan_id != plan.pk:
        raise PlanError(_("Goal %(id)s is not part of this plan.") % {"id": goal.pk})
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        note = ProgressNote.objects.create(plan=locked, goal=goal, author=by, text=text[:4000])
        bump_revision(locked)
        record_change(
            locked,
            by,
            ChangeAction.NOTE,
            _("Progress note"),
            {"note": note.pk, "goal": goal and goal.pk},
        )
    return note


def do_record_appointment(
    appointment: CounselingAppointment, by: User, status: str, note: str = ""
) -> CounselingAppointment:
    """Record whether the person came (attended / missed / cancelled)."""
    if not is_own_counselor(by, appointment.person_id):
        raise PlanError(_("Only one of this person's own counselors can do this."))
    if status not in AppointmentStatus.values or status == AppointmentStatus.SCHEDULED:
        raise PlanError(_("Choose attended, missed or cancelled."))
    with transaction.atomic():
        locked = CounselingAppointment.objects.select_for_update().get(pk=appointment.pk)
        before = locked.status
        locked.status = status
        locked.note = (note or "").strip()[:500]
        locked.recorded_by = by
        locked.recorded_at = timezone.now()
        locked.save(update_fields=["status", "note", "recorded_by", "recorded_at"])
        plan = (
            Plan.objects.select_for_update()
            .filter(goals__interventions__appointments=locked)
            .first()
        )
        if plan is not None:
            bump_revision(plan)
            record_change(
                plan,
                by,
                ChangeAction.APPOINTMENT,
                _("Appointment of %(when)s: %(status)s")
                % {
                    "when": timezone.localtime(locked.scheduled_at).strftime("%Y-%m-%d %H:%M"),
                    "status": AppointmentStatus(status).label,
                },
                {"appointment": locked.pk, "status": [before, status]},
            )
    return locked


def do_record_review(
    plan: Plan,
    by: User,
    decisions: dict[int, str],
    notes: str = "",
    met: set[int] | frozenset[int] = frozenset(),
    expected_revision: int | None = None,
) -> tuple[PlanReview, Plan | None]:
    """Record a review of the plan in force: a decision (continue / adjust / close) for each
    active goal; ``met`` names the closed goals that were reached. The phase follows the
    supervision period; the next review is scheduled (three months, or the next phase change).
    Goals to adjust start a revision draft, returned with the review."""
    require_counselor(plan, by)
    today = timezone.localdate()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().select_related("person").get(pk=plan.pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleRevision(
                _("This plan was changed after you opened it; the review was not saved.")
            )
        if locked.status != PlanStatus.APPROVED:
            raise PlanError(_("Only the plan in force can be reviewed."))
        active = {
            g.pk: g for g in locked.goals.filter(status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED])
        }
        unknown = [pk for pk in decisions if pk not in active]
        if unknown:
            raise PlanError(_("Goal %(id)s is not an open goal of this plan.") % {"id": unknown[0]})
        missing = [g.title for pk, g in active.items() if pk not in decisions]
        if missing:
            raise PlanError(
                _("Decide on every open goal: %(goals)s") % {"goals": "；".join(missing)}
            )
        for value in decisions.values():
            if value not in ReviewDecision.values:
                raise PlanError(_("Unknown decision “%(value)s”.") % {"value": value})
        recorded = []
        for pk, decision in decisions.items():
            goal = active[pk]
            new_status = {
                ReviewDecision.CONTINUE: goal.status,
                ReviewDecision.ADJUST: GoalStatus.ADJUSTED,
                ReviewDecision.CLOSE: GoalStatus.MET if pk in met else GoalStatus.CLOSED,
            }[ReviewDecision(decision)]
            recorded.append(
                {"goal": pk, "decision": decision, "met": decision == "close" and pk in met}
            )
            if new_status != goal.status:
                goal.status = new_status
                goal.save(update_fields=["status"])
        closed = [pk for pk, d in decisions.items() if d == ReviewDecision.CLOSE]
        cancelled = cancel_retests(
            Intervention.objects.filter(goal_id__in=closed), by, "goal closed at a plan review"
        )
        review = locked.reviews.filter(held_at__isnull=True).order_by("scheduled_for").first()
        if review is None:
            review = PlanReview(plan=locked, scheduled_for=today, reason=ReviewReason.AD_HOC)
        review.held_at = timezone.now()
        review.held_by = by
        review.decisions = recorded
        review.notes = (notes or "").strip()[:4000]
        review.save()
        fields = []
        diff: dict = {"review": review.pk, "decisions": recorded}
        if cancelled:
            diff["retests_cancelled"] = cancelled
        phase = phase_for(locked.person.supervision_start, locked.person.supervision_end, today)
        if phase != locked.phase:
            diff["plan"] = {"phase": [locked.phase, phase]}
            locked.phase = phase
            fields.append("phase")
        bump_revision(locked, *fields)
        if any(d["decision"] != ReviewDecision.CLOSE for d in recorded):
            upcoming = schedule_review(locked, today)
            diff["next_review"] = upcoming.scheduled_for.isoformat() if upcoming else None
        record_change(locked, by, ChangeAction.REVIEWED, _("Plan review held"), diff)
    draft = None
    if any(d["decision"] == ReviewDecision.ADJUST for d in recorded):
        draft = do_revise_plan(plan, by, _("Goals to adjust after the review"))
    plan.refresh_from_db()
    return review, draft


def do_close_plan(plan: Plan, by: User, reason: str) -> Plan:
    require_counselor(plan, by)
    reason = check_reason(reason)
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status == PlanStatus.CLOSED:
            raise PlanError(_("This plan is already closed."))
        locked.status = PlanStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_reason = reason[:200]
        bump_revision(locked, "status", "closed_at", "closed_reason")
        locked.reviews.filter(held_at__isnull=True).delete()
        CounselingAppointment.objects.filter(
            intervention__goal__plan=locked,
            status=AppointmentStatus.SCHEDULED,
            scheduled_at__gte=timezone.now(),
        ).update(status=AppointmentStatus.CANCELLED)
        cancelled = cancel_retests(
            Intervention.objects.filter(goal__plan=locked), by, f"plan closed: {reason}"
        )
        record_change(
            locked,
            by,
            ChangeAction.CLOSED,
            reason,
            {"retests_cancelled": cancelled} if cancelled else None,
        )
    plan.refresh_from_db()
    return plan
