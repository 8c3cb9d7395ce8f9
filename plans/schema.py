"""The plan rule set format, validated with pydantic (unknown fields are errors).

A rule set says two things, both as data an administrator can edit (``/admin/plans/rules/``):

- ``signals``: how evidence raises a need domain to ``moderate`` or ``high`` — a reviewed
  result at or above a band of an instrument's scale (or with a critical item), an intake fact
  the officer recorded, low participation against the monthly quota, low quiz accuracy;
- ``rules``: for a (domain, level), the goals to suggest, each with a measurable target, a
  default due date and the interventions that serve it (counseling appointments, a course by
  slug or topic, a lecture series, an assessment retest, an external referral).

Instrument slugs and band codes are checked against the instrument library passed as the
validation context (``{"instruments": {slug: {scale: [band codes, lowest first]}}}``), so a rule
that names an unknown instrument or band is refused with its location.
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, model_validator

from courses.models import Topic


class Domain(models.TextChoices):
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    LEGAL = "legal", _("Legal knowledge and attitudes")
    EMPLOYMENT = "employment", _("Employment and education")
    FAMILY = "family", _("Family and relationships")
    HOUSING = "housing", _("Housing and finances")
    SOCIAL = "social", _("Social ties")


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


LEVEL_RANK = {Level.LOW: 0, Level.MODERATE: 1, Level.HIGH: 2}


def level_rank(level: str) -> int:
    return LEVEL_RANK[Level(level)]


class InterventionKind(models.TextChoices):
    COUNSELING = "counseling", _("Counseling appointments")
    COURSE = "course", _("Course")
    LECTURE_SERIES = "lecture_series", _("Lecture series")
    RETEST = "retest", _("Questionnaire retest")
    REFERRAL = "referral", _("External referral")


# The intake facts an officer records (``plans.models.IntakeFacts``) and their values.
class Employment(models.TextChoices):
    EMPLOYED = "employed", _("In steady work")
    IRREGULAR = "irregular", _("Casual or irregular work")
    UNEMPLOYED = "unemployed", _("Looking for work")
    STUDENT = "student", _("In school or training")
    UNABLE = "unable", _("Retired or unable to work")


class Education(models.TextChoices):
    COLLEGE = "college", _("College or university")
    SENIOR = "senior", _("Senior high or vocational school")
    JUNIOR = "junior", _("Junior high school")
    PRIMARY = "primary", _("Primary school or less")


class Housing(models.TextChoices):
    STABLE = "stable", _("Stable home")
    TEMPORARY = "temporary", _("Temporary or insecure")
    NONE = "none", _("No fixed home")


class Finances(models.TextChoices):
    STABLE = "stable", _("Makes ends meet")
    STRAINED = "strained", _("Often short of money")
    CRISIS = "crisis", _("Heavy debt or no income")


class Family(models.TextChoices):
    SUPPORTIVE = "supportive", _("Supportive family")
    STRAINED = "strained", _("Strained relationships")
    CONFLICT = "conflict", _("Serious conflict")
    NO_CONTACT = "no_contact", _("No family contact")


class SocialTies(models.TextChoices):
    SUPPORTIVE = "supportive", _("Friends or neighbours who help")
    FEW = "few", _("Few people to turn to")
    RISKY = "risky", _("Mostly contacts who break the law")


class Attitude(models.TextChoices):
    ACCEPTS = "accepts", _("Accepts responsibility")
    AMBIVALENT = "ambivalent", _("Partly accepts responsibility")
    DENIES = "denies", _("Does not accept responsibility")


FACTS: dict[str, type[models.TextChoices]] = {
    "employment": Employment,
    "education": Education,
    "housing": Housing,
    "finances": Finances,
    "family": Family,
    "social_ties": SocialTies,
    "attitude": Attitude,
}

SLUG = r"^[a-z][a-z0-9_-]*$"
CODE = r"^[a-z][a-z0-9_]*$"
RaisedLevel = Literal["moderate", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LocalText(_Strict):
    """Text in Chinese and (optionally) English; Chinese is used when English is missing."""

    zh_hans: str = Field(alias="zh-hans", min_length=1, max_length=500)
    en: str = Field(default="", max_length=500)

    def for_language(self, language: str | None) -> str:
        if (language or "").startswith("en") and self.en:
            return self.en
        return self.zh_hans


# --- Signals: evidence → domain level --------------------------------------------------------


class ResultSignal(_Strict):
    """A reviewed result of ``instrument`` at or above ``band_at_least`` on ``scale`` (or with
    a critical item, when ``critical``) raises ``domain`` to ``level``."""

    instrument: Annotated[str, Field(pattern=SLUG, max_length=50)]
    scale: Annotated[str, Field(pattern=CODE, max_length=50)] = "total"
    band_at_least: Annotated[str, Field(pattern=CODE, max_length=50)] | None = None
    critical: bool = False
    domain: Domain
    level: RaisedLevel

    @model_validator(mode="after")
    def _one_condition(self) -> ResultSignal:
        if (self.band_at_least is None) == (not self.critical):
            raise ValueError(
                f"signal on {self.instrument}: give either band_at_least or critical: true"
            )
        return self


class FactSignal(_Strict):
    fact: Literal[
        "employment", "education", "housing", "finances", "family", "social_ties", "attitude"
    ]
    values: Annotated[list[str], Field(min_length=1)]
    domain: Domain
    level: RaisedLevel

    @model_validator(mode="after")
    def _known_values(self) -> FactSignal:
        allowed = FACTS[self.fact].values
        unknown = [value for value in self.values if value not in allowed]
        if unknown:
            raise ValueError(
                f"fact {self.fact}: unknown value(s) {', '.join(unknown)} "
                f"(known: {', '.join(allowed)})"
            )
        return self


class _Threshold(_Strict):
    domain: Domain = Domain.LEGAL
    moderate_below: Annotated[int, Field(ge=1, le=100)]
    high_below: Annotated[int, Field(ge=0, le=100)]

    @model_validator(mode="after")
    def _ordered(self) -> _Threshold:
        if self.high_below > self.moderate_below:
            raise ValueError("high_below must not exceed moderate_below")
        return self


class ParticipationSignal(_Threshold):
    """Participation minutes as a percentage of the monthly quota over the last ``months``
    complete months of supervision."""

    months: Annotated[int, Field(ge=1, le=12)] = 3


class QuizSignal(_Threshold):
    """First-attempt quiz accuracy (percent of questions right), once ``min_questions`` have
    been answered."""

    min_questions: Annotated[int, Field(ge=1, le=1000)] = 5


class Signals(_Strict):
    results: list[ResultSignal] = Field(default_factory=list)
    facts: list[FactSignal] = Field(default_factory=list)
    participation: ParticipationSignal | None = None
    quiz: QuizSignal | None = None


# --- Rules: (domain, level) → goals and interventions ---------------------------------------


class CounselingDef(_Strict):
    kind: Literal["counseling"]
    interval_days: Annotated[int, Field(ge=7, le=92)]
    sessions: Annotated[int, Field(ge=1, le=52)] = 6


class CourseDef(_Strict):
    kind: Literal["course"]
    slug: Annotated[str, Field(pattern=SLUG, max_length=255)] | None = None
    topic: Topic | None = None

    @model_validator(mode="after")
    def _slug_or_topic(self) -> CourseDef:
        if (self.slug is None) == (self.topic is None):
            raise ValueError(
                gettext("A course intervention names either a course slug or a topic.")
            )
        return self


class LectureSeriesDef(_Strict):
    kind: Literal["lecture_series"]
    topic: Topic


class RetestDef(_Strict):
    """Retest ``instrument`` after ``interval_days``; without ``instrument``, each instrument
    whose reviewed result raised the goal's need (expanded when the plan is drafted)."""

    kind: Literal["retest"]
    instrument: Annotated[str, Field(pattern=SLUG, max_length=50)] | None = None
    interval_days: Annotated[int, Field(ge=14, le=365)] = 90


class ReferralDef(_Strict):
    kind: Literal["referral"]
    service: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, Field(min_length=1, max_length=200)]


InterventionDef = Annotated[
    CounselingDef | CourseDef | LectureSeriesDef | RetestDef | ReferralDef,
    Field(discriminator="kind"),
]


class GoalDef(_Strict):
    title: LocalText
    target: LocalText
    due_in_days: Annotated[int, Field(ge=7, le=730)] = 90
    interventions: list[InterventionDef] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _target_required(cls, data):
        if isinstance(data, dict):
            target = data.get("target")
            text = (
                target.get("zh-hans", target.get("zh_hans")) if isinstance(target, dict) else target
            )
            if not isinstance(text, str) or not text.strip():
                title = data.get("title")
                name = title.get("zh-hans", "") if isinstance(title, dict) else title
                raise ValueError(
                    gettext("Goal “%(title)s”: a measurable target is required.")
                    % {"title": name or "—"}
                )
        return data


class RuleDef(_Strict):
    domain: Domain
    level: Level
    goals: Annotated[list[GoalDef], Field(min_length=1)]


class IntensityDef(_Strict):
    """Support intensity from the levels: each domain adds its weight; ``medium_at`` and
    ``high_at`` are the thresholds on the sum."""

    moderate_weight: Annotated[int, Field(ge=0, le=10)] = 1
    high_weight: Annotated[int, Field(ge=0, le=10)] = 3
    medium_at: Annotated[int, Field(ge=1, le=100)] = 2
    high_at: Annotated[int, Field(ge=1, le=100)] = 4

    @model_validator(mode="after")
    def _ordered(self) -> IntensityDef:
        if self.high_weight < self.moderate_weight:
            raise ValueError("high_weight must not be below moderate_weight")
        if self.high_at < self.medium_at:
            raise ValueError("high_at must not be below medium_at")
        return self


class PlanRulesDef(_Strict):
    signals: Signals
    intensity: IntensityDef = Field(default_factory=IntensityDef)
    rules: list[RuleDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> PlanRulesDef:
        seen: set[tuple[str, str]] = set()
        for rule in self.rules:
            key = (rule.domain, rule.level)
            if key in seen:
                raise ValueError(
                    gettext("The rule for %(domain)s, level %(level)s is listed twice.")
                    % {"domain": Domain(rule.domain).label, "level": Level(rule.level).label}
                )
            seen.add(key)
        catalog = (info.context or {}).get("instruments")
        if catalog is None:
            return self
        for signal in self.signals.results:
            scales = _instrument(catalog, signal.instrument, "signal")
            if signal.scale not in scales:
                raise ValueError(
                    f"signal on {signal.instrument}: unknown scale {signal.scale!r} "
                    f"(known: {', '.join(sorted(scales))})"
                )
            bands = scales[signal.scale]
            if signal.band_at_least is not None and signal.band_at_least not in bands:
                known = ", ".join(bands) or "none: this scale has no bands"
                raise ValueError(
                    f"signal on {signal.instrument}.{signal.scale}: unknown band "
                    f"{signal.band_at_least!r} (known: {known})"
                )
        for rule in self.rules:
            for goal in rule.goals:
                for intervention in goal.interventions:
                    if isinstance(intervention, RetestDef) and intervention.instrument:
                        _instrument(
                            catalog,
                            intervention.instrument,
                            f"rule ({rule.domain}, {rule.level}) goal {goal.title.zh_hans!r}",
                        )
        return self

    def rule_for(self, domain: str, level: str) -> RuleDef | None:
        for rule in self.rules:
            if rule.domain == domain and rule.level == level:
                return rule
        return None


def _instrument(catalog: dict, slug: str, where: str) -> dict[str, list[str]]:
    if slug not in catalog:
        raise ValueError(
            gettext("%(where)s: unknown instrument '%(slug)s' (known: %(known)s)")
            % {"where": where, "slug": slug, "known": ", ".join(sorted(catalog))}
        )
    return catalog[slug]


AnyIntervention = CounselingDef | CourseDef | LectureSeriesDef | RetestDef | ReferralDef
_INTERVENTION = TypeAdapter(InterventionDef)


def intervention_def(details: dict, catalog: dict | None = None) -> AnyIntervention:
    """Validate one intervention's ``details`` (with its ``kind``); with ``catalog`` (see
    ``PlanRulesDef``) a retest must name a known instrument."""
    parsed = _INTERVENTION.validate_python(details)
    if catalog is not None and isinstance(parsed, RetestDef) and parsed.instrument:
        _instrument(catalog, parsed.instrument, "retest")
    return parsed
