from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from assessments.schema import InstrumentDef
from lib.appendonly import AppendOnlyError, AppendOnlyModelMixin, AppendOnlyQuerySetMixin
from people.models import Caseload, in_office_subtree
from people.roles import Role, roles_of


class Instrument(models.Model):
    """A questionnaire, whatever its version; ``title`` is {"zh-hans": ..., "en": ...}."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    title = models.JSONField(_("title"), default=dict)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")

    def __str__(self) -> str:
        return self.localized_title()

    def localized_title(self, language: str | None = None) -> str:
        return localized_title(self.title, self.slug, language)


def localized_title(title: dict, fallback: str, language: str | None = None) -> str:
    """An instrument's ``title`` ({"zh-hans": ..., "en": ...}) in ``language`` (default: the
    active one), else Chinese, else ``fallback``."""
    language = language or get_language() or "zh-hans"
    key = "en" if language.startswith("en") else "zh-hans"
    return (title or {}).get(key) or (title or {}).get("zh-hans") or fallback


class InstrumentVersionQuerySet(models.QuerySet):
    def published(self) -> InstrumentVersionQuerySet:
        return self.filter(published=True)

    def for_slug(self, slug: str) -> InstrumentVersionQuerySet:
        return self.filter(instrument__slug=slug)


def loaded_questionnaires() -> list[tuple[str, str]]:
    """(short name, title in the active language) of every questionnaire with a published
    version, by title: the choices wherever staff pick a questionnaire."""
    rows = Instrument.objects.filter(versions__published=True).distinct()
    return sorted(((i.slug, i.localized_title()) for i in rows), key=lambda pair: pair[1])


class InstrumentVersion(models.Model):
    """One version of an instrument's definition (the validated file, canonical form).

    A published version is immutable: results record the version that scored them, so a
    change to items, scoring or bands needs a new version number (see
    ``services.do_load_instrument``).
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="versions", verbose_name=_("instrument")
    )
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    checksum = models.CharField(_("checksum"), max_length=64)
    published = models.BooleanField(_("published"), default=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    objects = InstrumentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["instrument", "-version"]
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "version"], name="assessments_unique_instrument_version"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="assessments_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.slug} v{self.version}"

    def as_definition(self) -> InstrumentDef:
        """The validated definition. Validating costs milliseconds, so for a published
        version — immutable, see ``services.do_load_instrument`` — the (frozen) result is
        shared per (row, checksum); drafts, which may still change, are validated each time."""
        if not self.published or self.pk is None or not self.checksum:
            return InstrumentDef.model_validate(self.definition)
        key = (self.pk, self.checksum)
        cached = _DEFINITIONS.get(key)
        if cached is None:
            cached = InstrumentDef.model_validate(self.definition)
            if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
                _DEFINITIONS.clear()
            _DEFINITIONS[key] = cached
        return cached


# Validated published definitions by (version id, checksum); see ``as_definition``.
_DEFINITIONS: dict[tuple[int, str], InstrumentDef] = {}
_DEFINITIONS_MAX = 256


# --- Taking and review ------------------------------------------------------------------------
#
# Who sees what (docs/security.md, "Roles matrix"): results, answers and alerts are visible to
# the person's own counselors and to administrators of the person's bureau who hold the
# explicit permission ``assessments.view_result`` (granted per user or group, never by role);
# lecturers and officers never; a learner sees only the plain-language summary a counselor
# has released (``Review.objects.released_to``).

VIEW_RESULT = "assessments.view_result"
VIEW_STATISTICS = "assessments.view_statistics"


# Results are append-only records; the older name stays for callers and tests.
ImmutableRecordError = AppendOnlyError


def _results_scope(user, person_field: str) -> models.Q | None:
    """Q over ``person_field`` for the persons whose results ``user`` may see; ``None`` = none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return models.Q()
    roles = roles_of(user)
    conditions: list[models.Q] = []
    if Role.COUNSELOR in roles:
        caseload = Caseload.objects.filter(counselor=user).values("person_id")
        conditions.append(models.Q(**{f"{person_field}__in": caseload}))
    if Role.ADMINISTRATOR in roles and user.office_id and user.has_perm(VIEW_RESULT):
        conditions.append(in_office_subtree(user.office, prefix=f"{person_field}__"))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


class _ScopedQuerySet(models.QuerySet):
    person_field = "person"

    def visible_to(self, user):
        scope = _results_scope(user, self.person_field)
        return self.none() if scope is None else self.filter(scope)


class AssignmentReason(models.TextChoices):
    INTAKE = "intake", _("Intake")
    PERIODIC = "periodic", _("Periodic")
    EXIT = "exit", _("Before release")
    AD_HOC = "ad_hoc", _("Ad hoc")


class AssignmentStatus(models.TextChoices):
    OPEN = "open", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (AssignmentStatus.OPEN, AssignmentStatus.IN_PROGRESS)


class AssignmentQuerySet(_ScopedQuerySet):
    def open(self) -> AssignmentQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def for_learner(self, user) -> AssignmentQuerySet:
        """The person's own assignments that have opened (a retest planned for later stays
        hidden until its day)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        today = timezone.localdate()
        return self.filter(person__user=user).filter(
            models.Q(opens_on__isnull=True) | models.Q(opens_on__lte=today)
        )


class Assignment(models.Model):
    """One instrument version to be answered by one person."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("person"),
    )
    instrument_version = models.ForeignKey(
        InstrumentVersion,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("instrument version"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=AssignmentReason.choices)
    assigned_by = models.ForeignKey(
        "people.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    # A retest planned "in 60 days" is assigned at approval but opens on its day.
    opens_on = models.DateField(
        _("opens on"), null=True, blank=True, help_text=_("Empty: the person can answer at once.")
    )
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.OPEN
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"{self.instrument_version} → {self.person_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ResponseQuerySet(_ScopedQuerySet):
    person_field = "assignment__person"


class Response(models.Model):
    """The answers as given so far: ``answers[i]`` is item i+1's option index or ``None``."""

    assignment = models.OneToOneField(
        Assignment, on_delete=models.PROTECT, related_name="response", verbose_name=_("assignment")
    )
    answers = models.JSONField(_("answers"), default=list)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"response to {self.assignment_id}"


class ResultQuerySet(AppendOnlyQuerySetMixin, _ScopedQuerySet):
    def review_queue(self) -> ResultQuerySet:
        """Results without a signed review: critical first, then by severity, oldest first."""
        return self.filter(review__signed_at__isnull=True).order_by(
            models.F("critical").desc(),
            models.F("max_severity").desc(nulls_last=True),
            "created_at",
            "pk",
        )


class Result(AppendOnlyModelMixin, models.Model):
    """The scored submission. Immutable: records the instrument and engine versions."""

    response = models.OneToOneField(
        Response, on_delete=models.PROTECT, related_name="result", verbose_name=_("response")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="results", verbose_name=_("person")
    )
    instrument_version = models.ForeignKey(
        InstrumentVersion,
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("instrument version"),
    )
    engine_version = models.CharField(_("engine version"), max_length=20)
    scales = models.JSONField(_("scales"))
    critical_items = models.JSONField(_("critical items"), default=list)
    critical = models.BooleanField(_("has critical items"), default=False)
    max_severity = models.PositiveSmallIntegerField(_("highest severity"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    objects = ResultQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("result")
        verbose_name_plural = _("results")
        indexes = [models.Index(fields=["person", "instrument_version"])]
        permissions = [
            # Counts of bands per office and period, never a person's result (statistics.py).
            ("view_statistics", _("Can view questionnaire statistics")),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_version} result {self.pk}"


class AlertQuerySet(_ScopedQuerySet):
    def unacknowledged(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    """A critical item in a submitted result; a counselor must acknowledge it."""

    result = models.OneToOneField(
        Result, on_delete=models.PROTECT, related_name="alert", verbose_name=_("result")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="alerts", verbose_name=_("person")
    )
    critical_items = models.JSONField(_("critical items"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        "people.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"alert {self.pk} on result {self.result_id}"


class ReviewQuerySet(models.QuerySet):
    def released_to(self, user) -> ReviewQuerySet:
        """Signed reviews with a released summary, for the learner they concern."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(result__person__user=user, signed_at__isnull=False).exclude(
            released_summary=""
        )


class Review(models.Model):
    """A counselor's interpretation of a result, signed; ``released_summary`` is what the
    learner may read (plain language, no scores)."""

    result = models.OneToOneField(
        Result, on_delete=models.PROTECT, related_name="review", verbose_name=_("result")
    )
    counselor = models.ForeignKey(
        "people.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("counselor")
    )
    interpretation = models.TextField(_("interpretation"))
    released_summary = models.TextField(_("summary for the person"), blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"review of result {self.result_id}"


# --- Schedules ---------------------------------------------------------------------------------


class ScheduleTrigger(models.TextChoices):
    """When a scheduled questionnaire is due; the values are also the assignment's reason."""

    INTAKE = AssignmentReason.INTAKE.value, _("At the start of supervision")
    PERIODIC = AssignmentReason.PERIODIC.value, _("Every few months")
    EXIT = AssignmentReason.EXIT.value, _("Before supervision ends")


class ScheduleRuleQuerySet(models.QuerySet):
    def active(self) -> ScheduleRuleQuerySet:
        return self.filter(active=True)

    def with_instrument_title(self) -> ScheduleRuleQuerySet:
        """Each rule with its questionnaire's ``title`` (``instrument_title``) in the same
        query, for ``ScheduleRule.instrument_name`` in lists."""
        titles = Instrument.objects.filter(slug=models.OuterRef("instrument_slug"))
        return self.annotate(
            instrument_title=models.Subquery(
                titles.values("title")[:1], output_field=models.JSONField()
            )
        )


class ScheduleRule(models.Model):
    """One line of the assessment schedule, edited by administrators in the admin.

    ``window_days`` is how long the person has to answer: intake — from the start of
    supervision; periodic — from each ``interval_months`` anniversary of the start; exit — the
    last ``window_days`` before supervision ends. ``schedules.py`` turns rules into dates and
    ``do_apply_schedules`` into assignments.
    """

    instrument_slug = models.SlugField(
        _("questionnaire"),
        max_length=50,
        help_text=_("The short name of a loaded questionnaire, e.g. phq9."),
    )
    trigger = models.CharField(_("when"), max_length=20, choices=ScheduleTrigger.choices)
    window_days = models.PositiveSmallIntegerField(
        _("days to answer"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "Intake: days after supervision starts. Periodic: days after each interval. "
            "Before the end: how many days before supervision ends it is assigned."
        ),
    )
    interval_months = models.PositiveSmallIntegerField(
        _("every how many months"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("Periodic rules only."),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScheduleRuleQuerySet.as_manager()

    class Meta:
        ordering = ["instrument_slug", "trigger"]
        verbose_name = _("questionnaire schedule rule")
        verbose_name_plural = _("questionnaire schedule")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument_slug", "trigger"], name="assessments_schedule_unique_rule"
            ),
            models.CheckConstraint(
                condition=models.Q(window_days__gte=1, window_days__lte=365),
                name="assessments_schedule_window_range",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(trigger="periodic", interval_months__gte=1, interval_months__lte=24)
                    | (~models.Q(trigger="periodic") & models.Q(interval_months__isnull=True))
                ),
                name="assessments_schedule_interval_only_periodic",
            ),
        ]

    def __str__(self) -> str:
        # Delete confirmations and messages name the questionnaire, never its short code.
        if getattr(self, "instrument_title", None) is None:
            instrument = Instrument.objects.filter(slug=self.instrument_slug).first()
            self.instrument_title = instrument.title if instrument else None
        return f"{self.instrument_name} · {self.get_trigger_display()}"

    def _instrument_name(self) -> str:
        """The questionnaire's title in the active language; needs
        ``with_instrument_title()`` (the short name alone otherwise, never a query)."""
        return localized_title(getattr(self, "instrument_title", None), self.instrument_slug)

    # The admin list's column heading (Django's label_for_field reads it from the getter).
    _instrument_name.short_description = _("questionnaire")
    instrument_name = property(_instrument_name)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.instrument_slug
            and not InstrumentVersion.objects.published().for_slug(self.instrument_slug).exists()
        ):
            errors["instrument_slug"] = _("Please choose one of the loaded questionnaires.")
        if self.trigger == ScheduleTrigger.PERIODIC and not self.interval_months:
            errors["interval_months"] = _("A periodic rule needs an interval in months.")
        if self.trigger != ScheduleTrigger.PERIODIC and self.interval_months:
            errors["interval_months"] = _("Only periodic rules have an interval.")
        if errors:
            raise ValidationError(errors)


NATIONAL_HOTLINE = "12356"
phone_number = RegexValidator(
    r"^\+?[0-9][0-9 -]{1,30}$", _("Enter a telephone number: digits, spaces and hyphens only.")
)


@register_setting(icon="help", name="crisis-lines")
class CrisisLines(BaseGenericSetting):
    """The numbers a learner sees right after a critical answer (``views.support``). 110, 120
    and the national psychological assistance hotline 12356 are fixed; the bureau's own duty
    line is set here by administrators."""

    duty_phone = models.CharField(
        _("bureau duty number"),
        max_length=32,
        default=NATIONAL_HOTLINE,
        validators=[phone_number],
        help_text=_("Shown to a person right after a worrying answer. Default: 12356."),
    )
    duty_hours = models.CharField(
        _("when it is answered"),
        max_length=100,
        blank=True,
        help_text=_("For example: every day 8:30–17:30. Leave empty if it is always answered."),
    )

    class Meta:
        verbose_name = _("crisis help numbers")
        verbose_name_plural = _("crisis help numbers")

    @property
    def duty_is_national(self) -> bool:
        return self.duty_phone.replace(" ", "").replace("-", "") == NATIONAL_HOTLINE
