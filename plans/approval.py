"""Approving a draft: the version in force is closed (what it put in place carried over or
taken back), the draft's interventions are put in place (``plans.activation``), the next
review is scheduled and the person is told. Then the person acknowledges reading it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications.models import NotificationKind
from notifications.services import notify
from people.models import User
from plans.access import require_counselor
from plans.activation import activate_all, cancel_retests, carry_appointments
from plans.errors import PlanError, StaleRevision
from plans.followup import schedule_review
from plans.history import bump_revision, record_change
from plans.models import ChangeAction, Intervention, Plan, PlanStatus


@dataclass
class ApprovalReport:
    """What approving did, for the counselor's message and the history."""

    plan: Plan
    put_in_place: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cancelled: list[dict] = field(default_factory=list)  # retest assignments


def do_approve_plan(plan: Plan, by: User, expected_revision: int | None = None) -> ApprovalReport:
    """Approve the draft ``plan`` as one of the person's own counselors and put its
    interventions in place: course enrollments, retest assignments, counseling appointments.
    The version it replaces is closed; the next review is scheduled; the person is told."""
    require_counselor(plan, by)
    today = timezone.localdate()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().select_related("person").get(pk=plan.pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleRevision(
                _(
                    "This plan was changed after you opened it; nothing was approved. "
                    "Check the changes, then approve again."
                )
            )
        if locked.status != PlanStatus.DRAFT:
            raise PlanError(_("Only a draft can be approved."))
        goals = list(locked.goals.prefetch_related("interventions"))
        if not goals:
            raise PlanError(_("Add at least one goal before approving the plan."))
        for goal in goals:
            if not goal.target.strip():
                raise PlanError(
                    _("Goal “%(title)s”: a measurable target is required.") % {"title": goal.title}
                )
        report = ApprovalReport(plan=locked)
        previous = (
            Plan.objects.select_for_update()
            .filter(person=locked.person, status=PlanStatus.APPROVED)
            .first()
        )
        if previous is not None:
            previous.status = PlanStatus.CLOSED
            previous.closed_at = timezone.now()
            previous.closed_reason = (
                _("Replaced by version %(version)s") % {"version": locked.version}
            )[:200]
            bump_revision(previous, "status", "closed_at", "closed_reason")
            record_change(previous, by, ChangeAction.CLOSED, previous.closed_reason)
            previous.reviews.filter(held_at__isnull=True).delete()
            carry_appointments(previous, locked, today)
            dropped = Intervention.objects.filter(goal__plan=previous).exclude(
                pk__in=Intervention.objects.filter(
                    goal__plan=locked, carried_from__isnull=False
                ).values("carried_from_id")
            )
            for item in cancel_retests(
                dropped, by, f"retest dropped from plan version {locked.version}"
            ):
                report.cancelled.append(item)
                report.put_in_place.append(
                    _("Retest of %(slug)s cancelled: it is no longer in the plan")
                    % {"slug": item["instrument"]}
                )
        waiting = [
            intervention
            for goal in goals
            for intervention in goal.interventions.all()
            if intervention.activated_at is None
        ]
        for outcome in activate_all(waiting, locked.person, by, today):
            if outcome.warning:
                report.warnings.append(outcome.warning)
            elif outcome.done:
                report.put_in_place.append(outcome.done)
        locked.status = PlanStatus.APPROVED
        locked.approved_by = by
        locked.approved_at = timezone.now()
        locked.acknowledged_at = None
        bump_revision(locked, "status", "approved_by", "approved_at", "acknowledged_at")
        review = schedule_review(locked, today)
        record_change(
            locked,
            by,
            ChangeAction.APPROVED,
            _("Plan approved"),
            {
                "put_in_place": report.put_in_place,
                "warnings": report.warnings,
                **({"retests_cancelled": report.cancelled} if report.cancelled else {}),
                "next_review": review.scheduled_for.isoformat() if review else None,
            },
        )
        _tell_person(locked)
    plan.refresh_from_db()
    report.plan = plan
    return report


def _tell_person(plan: Plan) -> None:
    user = plan.person.user
    notify(
        user,
        kind=NotificationKind.PLAN,
        title=gettext_noop("Your support plan is ready"),
        body=gettext_noop("Please read it and confirm that you have seen it."),
        url=reverse("plans_mine"),
        dedupe_key=f"plans:approved:{plan.pk}",
        params={},
    )


def do_acknowledge(plan: Plan, person_user: User) -> Plan:
    """The person confirms they have read their plan in force. Idempotent."""
    if plan.person.user_id != person_user.pk:
        raise Http404("No such plan")
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PlanStatus.APPROVED:
            raise PlanError(_("This plan is no longer in force."))
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            bump_revision(locked, "acknowledged_at")
            record_change(locked, person_user, ChangeAction.ACKNOWLEDGED, _("Read by the person"))
    plan.acknowledged_at = locked.acknowledged_at
    plan.revision = locked.revision
    return plan
