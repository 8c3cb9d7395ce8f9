"""The needs profile (plans/needs.py): pure rules, checked with examples and properties."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.needs import (
    IntakeSnapshot,
    MonthFigure,
    NeedsProfile,
    QuizFigures,
    ResultFact,
    ScaleFact,
    explanation,
    needs_profile,
)
from plans.rules import DEFAULT_RULES
from plans.schema import Domain, Level, PlanRulesDef, level_rank

DEFAULTS = PlanRulesDef.model_validate(json.loads(DEFAULT_RULES.read_text(encoding="utf-8")))
T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
PHQ9_BANDS = ("minimal", "mild", "moderate", "moderately_severe", "severe")
AUDIT_BANDS = ("zone_1", "zone_2", "zone_3", "zone_4")


def result(slug, band, order, *, pk=1, at=T0, critical=False, score=None) -> ResultFact:
    return ResultFact(
        result_id=pk,
        instrument=slug,
        taken_at=at,
        scales={"total": ScaleFact(score=score, band=band, band_order=order)},
        critical=critical,
    )


def levels(profile: NeedsProfile) -> dict[str, str]:
    return profile.levels()


# --- Examples with the shipped rules -----------------------------------------------------------


def test_nothing_known_means_low_everywhere_and_low_intensity():
    profile = needs_profile(DEFAULTS)
    assert set(levels(profile).values()) == {Level.LOW}
    assert profile.intensity == "low"
    assert all(not need.evidence for need in profile.domains.values())


def test_phq9_moderate_raises_mental_health_with_the_result_as_evidence():
    profile = needs_profile(DEFAULTS, [result("phq9", "moderate", PHQ9_BANDS, pk=7, score=10)])
    need = profile.domains[Domain.MENTAL_HEALTH]
    assert need.level == Level.MODERATE
    (evidence,) = need.evidence
    assert (evidence.kind, evidence.result_id, evidence.band, evidence.score) == (
        "result",
        7,
        "moderate",
        10,
    )


def test_mild_phq9_raises_nothing():
    profile = needs_profile(DEFAULTS, [result("phq9", "mild", PHQ9_BANDS)])
    assert profile.level(Domain.MENTAL_HEALTH) == Level.LOW


def test_a_critical_item_means_high_whatever_the_band():
    profile = needs_profile(DEFAULTS, [result("phq9", "mild", PHQ9_BANDS, critical=True)])
    need = profile.domains[Domain.MENTAL_HEALTH]
    assert need.level == Level.HIGH
    assert need.evidence[0].kind == "critical"


def test_audit_zone_3_is_a_high_substance_need():
    profile = needs_profile(DEFAULTS, [result("audit", "zone_3", AUDIT_BANDS)])
    assert profile.level(Domain.SUBSTANCE_USE) == Level.HIGH
    assert (
        needs_profile(DEFAULTS, [result("audit", "zone_2", AUDIT_BANDS)]).level(
            Domain.SUBSTANCE_USE
        )
        == Level.MODERATE
    )


def test_only_the_latest_result_of_an_instrument_counts():
    older = result("phq9", "severe", PHQ9_BANDS, pk=1, at=T0)
    newer = result("phq9", "minimal", PHQ9_BANDS, pk=2, at=T0 + dt.timedelta(days=30))
    assert needs_profile(DEFAULTS, [newer, older]).level(Domain.MENTAL_HEALTH) == Level.LOW


def test_a_band_the_version_does_not_know_fires_no_signal():
    odd = result("phq9", "moderate", ("moderate",))  # a version without the "severe" bands
    profile = needs_profile(DEFAULTS, [odd])
    assert profile.level(Domain.MENTAL_HEALTH) == Level.MODERATE
    strange = result("phq9", "unheard_of", PHQ9_BANDS)
    assert needs_profile(DEFAULTS, [strange]).level(Domain.MENTAL_HEALTH) == Level.LOW


def test_intake_facts_raise_their_domains_with_the_fact_as_evidence():
    intake = IntakeSnapshot(
        3,
        dt.date(2026, 3, 1),
        {"employment": "unemployed", "housing": "temporary", "attitude": "denies"},
    )
    profile = needs_profile(DEFAULTS, intake=intake)
    assert profile.level(Domain.EMPLOYMENT) == Level.HIGH
    assert profile.level(Domain.HOUSING) == Level.MODERATE
    assert profile.level(Domain.LEGAL) == Level.HIGH
    evidence = profile.domains[Domain.EMPLOYMENT].evidence[0]
    assert (evidence.kind, evidence.fact, evidence.value, evidence.intake_id) == (
        "fact",
        "employment",
        "unemployed",
        3,
    )


def months(*minutes: int, quota: int = 480) -> list[MonthFigure]:
    return [MonthFigure(dt.date(2026, i + 1, 1), m, quota) for i, m in enumerate(minutes)]


def test_participation_below_the_quota_raises_legal_knowledge():
    assert needs_profile(DEFAULTS, months=months(480, 480, 480)).level(Domain.LEGAL) == Level.LOW
    moderate = needs_profile(DEFAULTS, months=months(480, 300, 300))
    assert moderate.level(Domain.LEGAL) == Level.MODERATE
    evidence = moderate.domains[Domain.LEGAL].evidence[0]
    assert (evidence.kind, evidence.months, evidence.minutes, evidence.percent) == (
        "participation",
        3,
        1080,
        75,
    )
    assert needs_profile(DEFAULTS, months=months(0, 100, 200)).level(Domain.LEGAL) == Level.HIGH


def test_only_the_last_months_of_the_rule_count():
    # Five months given, the rule looks at three: the early gap no longer counts.
    profile = needs_profile(DEFAULTS, months=months(0, 0, 480, 480, 480))
    assert profile.level(Domain.LEGAL) == Level.LOW


def test_quiz_accuracy_counts_once_enough_questions_were_answered():
    assert needs_profile(DEFAULTS, quiz=QuizFigures(0, 4)).level(Domain.LEGAL) == Level.LOW
    profile = needs_profile(DEFAULTS, quiz=QuizFigures(3, 10))
    assert profile.level(Domain.LEGAL) == Level.HIGH
    assert profile.domains[Domain.LEGAL].evidence[0].percent == 30


def test_intensity_follows_the_weighted_levels():
    one_moderate = needs_profile(DEFAULTS, [result("phq9", "moderate", PHQ9_BANDS)])
    assert one_moderate.intensity == "low"
    intake = IntakeSnapshot(1, dt.date(2026, 3, 1), {"employment": "unemployed"})
    one_high = needs_profile(DEFAULTS, intake=intake)
    assert (one_high.score, one_high.intensity) == (3, "medium")
    two_high = needs_profile(DEFAULTS, [result("audit", "zone_4", AUDIT_BANDS)], intake=intake)
    assert (two_high.score, two_high.intensity) == (6, "high")


def test_the_profile_survives_its_stored_form():
    intake = IntakeSnapshot(1, dt.date(2026, 3, 1), {"family": "conflict"})
    profile = needs_profile(DEFAULTS, [result("phq9", "severe", PHQ9_BANDS, score=22)], intake)
    stored = json.loads(json.dumps(profile.as_dict()))
    assert NeedsProfile.from_dict(stored) == profile


def test_the_explanation_names_the_areas_and_is_never_a_diagnosis():
    intake = IntakeSnapshot(1, dt.date(2026, 3, 1), {"employment": "unemployed"})
    profile = needs_profile(DEFAULTS, [result("phq9", "moderate", PHQ9_BANDS)], intake)
    with translation.override("en"):
        text = explanation(profile)
    assert text.startswith("Support intensity: medium.")
    assert "Employment and education" in text and "Mental health" in text
    assert "is not a diagnosis" in text
    with translation.override("en"):
        calm = explanation(needs_profile(DEFAULTS))
    assert "No area needs more than the usual support." in calm


# --- Properties ----------------------------------------------------------------------------------

BANDS = ("b0", "b1", "b2", "b3")
INSTRUMENTS = ("alpha", "beta")


@st.composite
def rule_sets(draw) -> PlanRulesDef:
    signals = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "instrument": st.sampled_from(INSTRUMENTS),
                    "band_at_least": st.sampled_from(BANDS),
                    "domain": st.sampled_from(Domain.values),
                    "level": st.sampled_from(["moderate", "high"]),
                }
            ),
            max_size=8,
        )
    )
    return PlanRulesDef.model_validate(
        {
            "signals": {
                "results": signals,
                "participation": {"months": 3, "moderate_below": 80, "high_below": 50},
            },
            "intensity": {"moderate_weight": 1, "high_weight": 3, "medium_at": 2, "high_at": 5},
        },
        context={"instruments": {slug: {"total": list(BANDS)} for slug in INSTRUMENTS}},
    )


def results_for(bands: dict[str, int]) -> list[ResultFact]:
    return [
        result(slug, BANDS[index], BANDS, pk=n + 1)
        for n, (slug, index) in enumerate(sorted(bands.items()))
    ]


band_maps = st.dictionaries(st.sampled_from(INSTRUMENTS), st.integers(0, len(BANDS) - 1))


@settings(max_examples=200, deadline=None)
@given(rules=rule_sets(), bands=band_maps, data=st.data())
def test_a_worse_band_never_lowers_a_level_or_the_intensity(rules, bands, data):
    if not bands:
        return
    slug = data.draw(st.sampled_from(sorted(bands)))
    worse = dict(bands)
    worse[slug] = data.draw(st.integers(bands[slug], len(BANDS) - 1))
    before = needs_profile(rules, results_for(bands))
    after = needs_profile(rules, results_for(worse))
    for domain in Domain.values:
        assert level_rank(after.level(domain)) >= level_rank(before.level(domain)), domain
    assert after.score >= before.score
    order = ["low", "medium", "high"]
    assert order.index(after.intensity) >= order.index(before.intensity)


@settings(max_examples=200, deadline=None)
@given(
    rules=rule_sets(),
    bands=band_maps,
    minutes=st.lists(st.integers(0, 600), max_size=4),
    facts=st.fixed_dictionaries(
        {"employment": st.sampled_from(["employed", "irregular", "unemployed"])}
    ),
)
def test_every_raised_level_is_explained_by_evidence_at_that_level(rules, bands, minutes, facts):
    profile = needs_profile(
        rules,
        results_for(bands),
        IntakeSnapshot(1, dt.date(2026, 1, 1), facts),
        months(*minutes),
    )
    for domain, need in profile.domains.items():
        ranks = [level_rank(e.level) for e in need.evidence]
        assert all(rank <= level_rank(need.level) for rank in ranks), domain
        if need.level != Level.LOW:
            assert level_rank(need.level) in ranks, domain
        else:
            assert not need.evidence, domain


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 600), min_size=1, max_size=3),
    index=st.integers(0, 2),
    less=st.integers(0, 600),
)
def test_less_participation_never_lowers_the_legal_level(minutes, index, less):
    index = min(index, len(minutes) - 1)
    fewer = list(minutes)
    fewer[index] = max(0, fewer[index] - less)
    before = needs_profile(DEFAULTS, months=months(*minutes))
    after = needs_profile(DEFAULTS, months=months(*fewer))
    assert level_rank(after.level(Domain.LEGAL)) >= level_rank(before.level(Domain.LEGAL))
