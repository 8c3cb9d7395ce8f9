"""Individual assistance plans (个别化矫正方案): intake facts, the versioned rule set, plans with
goals and interventions, counseling appointments, progress notes, reviews and the history.

A plan is versioned by rows: each ``Plan`` is one version for one person. At most one draft
and one approved version exist per person at a time; approving a draft closes the version it
replaces. Every change is appended to ``PlanChange`` (who, when, why, what) and logged through
``audit.record_access``. The lifecycle is in ``plans/drafting.py``, ``editing.py``,
``approval.py`` and ``followup.py``.

Who sees what (docs/security.md, "Roles matrix"): counselors see and edit the plans of their
own caseload; officers see the plans of their office subtree and own cases (levels and goals,
never questionnaire answers or scores); administrators only with the explicit permission
``plans.view_bureau_plans``; a learner sees their own approved plan.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.appendonly import AppendOnlyModelMixin, AppendOnlyQuerySetMixin
from lib.versioned import VersionedRules
from people.models import Caseload, Person, in_office_subtree
from people.roles import Role, roles_of
from plans.schema import (
    Attitude,
    Domain,
    Education,
    Employment,
    Family,
    Finances,
    Housing,
    InterventionKind,
    SocialTies,
)

VIEW_BUREAU_PLANS = "plans.view_bureau_plans"


# --- Intake facts ---------------------------------------------------------------------------


class IntakeFactsQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    def latest_for(self, person) -> IntakeFacts | None:
        return self.filter(person=person).order_by("-recorded_at", "-pk").first()


class IntakeFacts(AppendOnlyModelMixin, models.Model):
    """The person's circumstances as the officer recorded them. A new record is a new row;
    the latest one counts, earlier ones are the history."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="intake_facts",
        verbose_name=_("person"),
    )
    employment = models.CharField(_("employment"), max_length=20, choices=Employment.choices)
    education = models.CharField(_("education"), max_length=20, choices=Education.choices)
    housing = models.CharField(_("housing"), max_length=20, choices=Housing.choices)
    finances = models.CharField(_("finances"), max_length=20, choices=Finances.choices)
    family = models.CharField(_("family situation"), max_length=20, choices=Family.choices)
    social_ties = models.CharField(_("social ties"), max_length=20, choices=SocialTies.choices)
    attitude = models.CharField(
        _("attitude towards the offence"), max_length=20, choices=Attitude.choices
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = IntakeFactsQuerySet.as_manager()

    FIELDS = ("employment", "education", "housing", "finances", "family", "social_ties", "attitude")

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("intake facts")
        verbose_name_plural = _("intake facts")
        indexes = [models.Index(fields=["person", "recorded_at"])]

    def __str__(self) -> str:
        return f"intake facts of {self.person_id} ({self.recorded_at:%Y-%m-%d})"

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.FIELDS}


# --- Rule sets ------------------------------------------------------------------------------


class PlanRuleSet(VersionedRules):
    """One version of the plan rules (``plans.schema.PlanRulesDef``). The highest version is
    in use. A version that drafted a plan is immutable: a change makes a new version."""

    rules = models.JSONField(_("rules"))

    # plans/migrations/0003 stored the first note in English
    stored_notes = {"Shipped defaults": _("Shipped defaults")}

    class Meta(VersionedRules.Meta):
        verbose_name = _("plan rule set")
        verbose_name_plural = _("plan rule sets")
        constraints = [
            models.CheckConstraint(
                condition=Q(version__gte=1), name="plans_ruleset_version_positive"
            )
        ]

    def __str__(self) -> str:
        return f"plan rules v{self.version}"

    @property
    def is_used(self) -> bool:
        return self.plans.exists()


# --- Plans ----------------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    CLOSED = "closed", _("Closed")


class Phase(models.TextChoices):
    INITIAL = "initial", _("Initial phase (初期)")
    MIDDLE = "middle", _("Middle phase (中期)")
    FINAL = "final", _("Final phase (末期)")


class Intensity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


def _persons_scope(user) -> Q | None:
    """Q over Person for the persons whose plans ``user`` may see; ``None`` = nobody."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    roles = roles_of(user)
    conditions: list[Q] = []
    if Role.COUNSELOR in roles:
        conditions.append(Q(pk__in=Caseload.objects.filter(counselor=user).values("person_id")))
    if Role.OFFICER in roles:
        conditions.append(Q(case_officer=user))
        if user.office_id:
            conditions.append(in_office_subtree(user.office))
    if Role.ADMINISTRATOR in roles and user.office_id and user.has_perm(VIEW_BUREAU_PLANS):
        conditions.append(in_office_subtree(user.office))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def plan_persons(user):
    """The persons whose plans ``user`` may see in the admin: own caseload (counselor), office
    subtree and own cases (officer), own bureau with ``plans.view_bureau_plans``
    (administrator)."""
    scope = _persons_scope(user)
    return Person.objects.none() if scope is None else Person.objects.filter(scope)


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanQuerySet:
        """Plans ``user`` may see in the admin: own caseload (counselor), office subtree and
        own cases (officer), own bureau with ``plans.view_bureau_plans`` (administrator)."""
        if _persons_scope(user) is None:
            return self.none()
        return self.filter(person__in=plan_persons(user).values("pk"))

    def for_learner(self, user) -> PlanQuerySet:
        """The signed-in person's approved plan (the one in force)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(person__user=user, status=PlanStatus.APPROVED)

    def current(self) -> PlanQuerySet:
        return self.exclude(status=PlanStatus.CLOSED)


class Plan(models.Model):
    """One version of a person's assistance plan.

    ``revision`` counts saved changes: an edit names the revision it started from and is
    refused when the plan moved on meanwhile (``services.StaleRevision``)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="plans", verbose_name=_("person")
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices)
    support_intensity = models.CharField(
        _("support intensity"), max_length=10, choices=Intensity.choices
    )
    intensity_explanation = models.TextField(_("why this intensity"), max_length=2000)
    # The needs profile the draft was made from (plans.needs.NeedsProfile.as_dict()).
    needs = models.JSONField(_("needs profile"), default=dict)
    rule_set = models.ForeignKey(
        PlanRuleSet,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("rule set"),
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous version"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(
        _("acknowledged by the person at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_reason = models.CharField(_("why it was closed"), max_length=200, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["person", "-version"]
        verbose_name = _("assistance plan")
        verbose_name_plural = _("assistance plans")
        permissions = [
            ("view_bureau_plans", _("Can view every assistance plan in own bureau")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="plans_unique_version"),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="draft"),
                name="plans_one_draft_per_person",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="approved"),
                name="plans_one_approved_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"plan v{self.version} of {self.person_id} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MET = "met", _("Met")
    ADJUSTED = "adjusted", _("Adjusted")
    CLOSED = "closed", _("Closed")


class Goal(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="goals")
    domain = models.CharField(_("need area"), max_length=20, choices=Domain.choices)
    title = models.CharField(_("goal"), max_length=500)
    target = models.CharField(_("measurable target"), max_length=500)
    due = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    position = models.PositiveIntegerField(default=0)
    # "domain:level:index" of the rule that suggested it; empty when staff added it.
    suggestion = models.CharField(max_length=60, blank=True)
    # Set once staff change a suggested goal: a later re-draft leaves it alone.
    edited = models.BooleanField(default=False)
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan", "position", "pk"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(condition=~Q(target=""), name="plans_goal_target_required"),
            models.CheckConstraint(condition=~Q(title=""), name="plans_goal_title_required"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in (GoalStatus.OPEN, GoalStatus.ADJUSTED)


class Intervention(models.Model):
    """What serves a goal. ``details`` is ``plans.schema.InterventionDef`` (with ``kind``).
    Approval links it to real things: enrollments, a retest assignment, appointments, the
    upcoming lectures of a lecture series."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(_("kind"), max_length=20, choices=InterventionKind.choices)
    details = models.JSONField(_("details"))
    position = models.PositiveIntegerField(default=0)
    enrollments = models.ManyToManyField(
        "learning.Enrollment", blank=True, related_name="+", verbose_name=_("enrollments")
    )
    assignment = models.ForeignKey(
        "assessments.Assignment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("retest assignment"),
    )
    # True when approval created ``assignment`` (rather than linking one already open, e.g.
    # from a schedule): only then may dropping the retest cancel it.
    assignment_created = models.BooleanField(_("retest assigned by the plan"), default=False)
    lectures = models.ManyToManyField(
        "live.Lecture", blank=True, related_name="+", verbose_name=_("lectures")
    )
    activated_at = models.DateTimeField(_("put in place at"), null=True, blank=True)
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["goal", "position", "pk"]
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")

    def __str__(self) -> str:
        return f"{self.kind} for goal {self.goal_id}"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class CounselingAppointmentQuerySet(models.QuerySet):
    def for_learner(self, user) -> CounselingAppointmentQuerySet:
        """The signed-in person's own appointments; nobody else's, ever."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(person__user=user)

    def upcoming(self, now) -> CounselingAppointmentQuerySet:
        return self.filter(status=AppointmentStatus.SCHEDULED, scheduled_at__gte=now)


class CounselingAppointment(models.Model):
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="counseling_appointments",
        verbose_name=_("person"),
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="counseling_appointments",
        verbose_name=_("counselor"),
    )
    intervention = models.ForeignKey(
        Intervention,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    scheduled_at = models.DateTimeField(_("time"))
    duration_minutes = models.PositiveSmallIntegerField(_("minutes"), default=50)
    place = models.CharField(
        _("place"),
        max_length=200,
        blank=True,
        help_text=_("Empty: the person's justice office."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.SCHEDULED,
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = CounselingAppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "pk"]
        verbose_name = _("counseling appointment")
        verbose_name_plural = _("counseling appointments")
        indexes = [models.Index(fields=["person", "scheduled_at"])]
        constraints = [
            # One counselor, one time, one appointment (booking offers the next free slot;
            # this holds even against a write that bypasses it).
            models.UniqueConstraint(
                fields=["counselor", "scheduled_at"],
                condition=models.Q(status=AppointmentStatus.SCHEDULED),
                name="plans_one_appointment_per_counselor_time",
            )
        ]

    def __str__(self) -> str:
        return f"appointment {self.person_id} {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def where(self) -> str:
        """The place to go: the one set, else the person's justice office."""
        return self.place or self.person.office.name

    @property
    def ends_at(self):
        return self.scheduled_at + dt.timedelta(minutes=self.duration_minutes)


class ProgressNoteQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    pass


class ProgressNote(AppendOnlyModelMixin, models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="notes")
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    objects = ProgressNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")

    def __str__(self) -> str:
        return f"note on plan {self.plan_id}"


class ReviewReason(models.TextChoices):
    SCHEDULED = "scheduled", _("Every three months")
    PHASE_CHANGE = "phase_change", _("Change of phase")
    AD_HOC = "ad_hoc", _("Ad hoc")


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", _("Continue")
    ADJUST = "adjust", _("Adjust")
    CLOSE = "close", _("Close")


class PlanReview(models.Model):
    """A scheduled review of an approved plan; ``decisions`` once held:
    ``[{"goal": id, "decision": "continue"|"adjust"|"close", "met": bool}]``."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="reviews")
    scheduled_for = models.DateField(_("scheduled for"))
    reason = models.CharField(_("reason"), max_length=20, choices=ReviewReason.choices)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decisions = models.JSONField(_("decisions"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)

    class Meta:
        ordering = ["scheduled_for", "pk"]
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")

    def __str__(self) -> str:
        return f"review of plan {self.plan_id} on {self.scheduled_for}"


class ChangeAction(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    UPDATED = "updated", _("Edited")
    APPROVED = "approved", _("Approved")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the person")
    REVIEWED = "reviewed", _("Reviewed")
    NOTE = "note", _("Progress note")
    APPOINTMENT = "appointment", _("Appointment recorded")
    CLOSED = "closed", _("Closed")


class PlanChangeQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    pass


class PlanChange(AppendOnlyModelMixin, models.Model):
    """One entry of a plan's history: who changed what, when and why (append-only)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="changes")
    revision = models.PositiveIntegerField(_("revision"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("what"), max_length=20, choices=ChangeAction.choices)
    reason = models.CharField(_("why"), max_length=500)
    diff = models.JSONField(_("what changed"), default=dict)

    objects = PlanChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("plan change")
        verbose_name_plural = _("plan changes")

    def __str__(self) -> str:
        return f"{self.action} plan {self.plan_id} r{self.revision}"
