"""The needs profile: per need domain a level (low / moderate / high) with its evidence, and an
overall support intensity. Pure functions over plain data; ``plans.drafting`` gathers the
inputs (reviewed results only, the participation ledger, the latest intake facts).

Rules:
- a domain's level is the highest level any signal of the rule set gives it (low when none);
- only the latest reviewed result of each instrument counts; a result signal fires when the
  result's band on the scale is at or above ``band_at_least`` in that version's band order,
  or, for a ``critical`` signal, when the result has a critical item;
- participation: minutes as a percentage of the quota over the last N complete months;
  quiz: first-attempt accuracy once enough questions were answered;
- every non-low level carries at least one piece of evidence at that level;
- intensity: the weighted sum of levels against the rule set's thresholds.

This is a description of support needs for planning, never a diagnosis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from plans.schema import Domain, Level, PlanRulesDef, level_rank


@dataclass(frozen=True)
class ScaleFact:
    score: float | None
    band: str | None
    band_order: tuple[str, ...]  # the version's band codes on this scale, lowest first
    band_label: dict[str, str] = field(default_factory=dict)  # {"zh-hans": …, "en": …}


@dataclass(frozen=True)
class ResultFact:
    """One reviewed result."""

    result_id: int
    instrument: str
    taken_at: dt.datetime
    scales: dict[str, ScaleFact]
    critical: bool = False


@dataclass(frozen=True)
class IntakeSnapshot:
    intake_id: int
    recorded_on: dt.date
    values: dict[str, str]


@dataclass(frozen=True)
class MonthFigure:
    period: dt.date  # first day of a complete month of supervision
    minutes: int
    quota_minutes: int


@dataclass(frozen=True)
class QuizFigures:
    right: int
    answered: int


@dataclass(frozen=True)
class Evidence:
    """Why a domain has a level. Only the fields of its ``kind`` are set."""

    kind: str  # "result", "critical", "fact", "participation" or "quiz"
    level: str
    result_id: int | None = None
    instrument: str = ""
    scale: str = ""
    band: str = ""
    band_label: dict[str, str] = field(default_factory=dict)
    score: float | None = None
    intake_id: int | None = None
    fact: str = ""
    value: str = ""
    months: int | None = None
    minutes: int | None = None
    quota_minutes: int | None = None
    right: int | None = None
    answered: int | None = None
    percent: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", {})}

    @property
    def from_questionnaire(self) -> bool:
        return self.kind in ("result", "critical")


@dataclass(frozen=True)
class DomainNeed:
    domain: str
    level: str
    evidence: tuple[Evidence, ...] = ()

    def as_dict(self) -> dict:
        return {"level": self.level, "evidence": [e.as_dict() for e in self.evidence]}


@dataclass(frozen=True)
class NeedsProfile:
    domains: dict[str, DomainNeed]
    intensity: str
    score: int

    def level(self, domain: str) -> str:
        return self.domains[domain].level

    def levels(self) -> dict[str, str]:
        return {domain: need.level for domain, need in self.domains.items()}

    def raised(self) -> list[DomainNeed]:
        """Domains above low, highest level first, in domain order within a level."""
        order = list(Domain.values)
        needs = [n for n in self.domains.values() if n.level != Level.LOW]
        return sorted(needs, key=lambda n: (-level_rank(n.level), order.index(n.domain)))

    def as_dict(self) -> dict:
        return {
            "domains": {d: need.as_dict() for d, need in self.domains.items()},
            "intensity": self.intensity,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: dict) -> NeedsProfile:
        domains = {}
        for domain in Domain.values:
            stored = (data.get("domains") or {}).get(domain) or {}
            evidence = tuple(Evidence(**e) for e in stored.get("evidence", []))
            domains[domain] = DomainNeed(domain, stored.get("level", Level.LOW), evidence)
        return cls(domains, data.get("intensity", "low"), int(data.get("score", 0)))


def _latest_per_instrument(results: Iterable[ResultFact]) -> list[ResultFact]:
    latest: dict[str, ResultFact] = {}
    for result in results:
        current = latest.get(result.instrument)
        if current is None or (result.taken_at, result.result_id) > (
            current.taken_at,
            current.result_id,
        ):
            latest[result.instrument] = result
    return [latest[slug] for slug in sorted(latest)]


def _percent_level(percent: int, moderate_below: int, high_below: int) -> str:
    if percent < high_below:
        return Level.HIGH
    if percent < moderate_below:
        return Level.MODERATE
    return Level.LOW


def needs_profile(
    rules: PlanRulesDef,
    results: Iterable[ResultFact] = (),
    intake: IntakeSnapshot | None = None,
    months: Sequence[MonthFigure] = (),
    quiz: QuizFigures | None = None,
) -> NeedsProfile:
    """The profile the rule set ``rules`` gives this evidence (see the module docstring)."""
    found: dict[str, list[Evidence]] = {domain: [] for domain in Domain.values}
    signals = rules.signals

    for result in _latest_per_instrument(results):
        for signal in signals.results:
            if signal.instrument != result.instrument:
                continue
            scale = result.scales.get(signal.scale)
            if signal.critical:
                if result.critical:
                    found[signal.domain].append(
                        Evidence(
                            kind="critical",
                            level=signal.level,
                            result_id=result.result_id,
                            instrument=result.instrument,
                        )
                    )
                continue
            if scale is None or scale.band is None:
                continue
            order = scale.band_order
            if signal.band_at_least not in order or scale.band not in order:
                continue  # this version has no such band
            if order.index(scale.band) >= order.index(signal.band_at_least):
                found[signal.domain].append(
                    Evidence(
                        kind="result",
                        level=signal.level,
                        result_id=result.result_id,
                        instrument=result.instrument,
                        scale=signal.scale,
                        band=scale.band,
                        band_label=dict(scale.band_label),
                        score=scale.score,
                    )
                )

    if intake is not None:
        for signal in signals.facts:
            value = intake.values.get(signal.fact)
            if value in signal.values:
                found[signal.domain].append(
                    Evidence(
                        kind="fact",
                        level=signal.level,
                        intake_id=intake.intake_id,
                        fact=signal.fact,
                        value=value,
                    )
                )

    if signals.participation is not None:
        rule = signals.participation
        recent = sorted(months, key=lambda m: m.period)[-rule.months :]
        quota = sum(m.quota_minutes for m in recent)
        if recent and quota > 0:
            minutes = sum(m.minutes for m in recent)
            percent = min(100, minutes * 100 // quota)
            level = _percent_level(percent, rule.moderate_below, rule.high_below)
            if level != Level.LOW:
                found[rule.domain].append(
                    Evidence(
                        kind="participation",
                        level=level,
                        months=len(recent),
                        minutes=minutes,
                        quota_minutes=quota,
                        percent=percent,
                    )
                )

    if signals.quiz is not None and quiz is not None:
        rule = signals.quiz
        if quiz.answered >= rule.min_questions:
            percent = quiz.right * 100 // quiz.answered
            level = _percent_level(percent, rule.moderate_below, rule.high_below)
            if level != Level.LOW:
                found[rule.domain].append(
                    Evidence(
                        kind="quiz",
                        level=level,
                        right=quiz.right,
                        answered=quiz.answered,
                        percent=percent,
                    )
                )

    domains: dict[str, DomainNeed] = {}
    for domain, evidence in found.items():
        level = max((e.level for e in evidence), key=level_rank, default=Level.LOW)
        ordered = sorted(evidence, key=lambda e: -level_rank(e.level))
        domains[domain] = DomainNeed(domain, str(level), tuple(ordered))

    weights = {Level.LOW: 0, Level.MODERATE: rules.intensity.moderate_weight}
    weights[Level.HIGH] = rules.intensity.high_weight
    score = sum(weights[Level(need.level)] for need in domains.values())
    if score >= rules.intensity.high_at:
        intensity = "high"
    elif score >= rules.intensity.medium_at:
        intensity = "medium"
    else:
        intensity = "low"
    return NeedsProfile(domains, intensity, score)


def explanation(profile: NeedsProfile) -> str:
    """A plain sentence or two on why the support intensity is what it is (current language).
    It describes support needs, never a diagnosis."""
    high = [Domain(n.domain).label for n in profile.raised() if n.level == Level.HIGH]
    moderate = [Domain(n.domain).label for n in profile.raised() if n.level == Level.MODERATE]
    intensity = {"low": _("low"), "medium": _("medium"), "high": _("high")}[profile.intensity]
    parts = [_("Support intensity: %(intensity)s.") % {"intensity": intensity}]
    if high:
        parts.append(
            ngettext(
                "One area needs a lot of support: %(areas)s.",
                "%(count)d areas need a lot of support: %(areas)s.",
                len(high),
            )
            % {"count": len(high), "areas": _("; ").join(str(a) for a in high)}
        )
    if moderate:
        parts.append(
            ngettext(
                "One area needs some support: %(areas)s.",
                "%(count)d areas need some support: %(areas)s.",
                len(moderate),
            )
            % {"count": len(moderate), "areas": _("; ").join(str(a) for a in moderate)}
        )
    if not high and not moderate:
        parts.append(_("No area needs more than the usual support."))
    parts.append(
        _(
            "This describes how much support is planned; it is based on screening results "
            "and circumstances and is not a diagnosis."
        )
    )
    return " ".join(parts)
