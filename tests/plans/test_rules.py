"""Plan rule sets: the schema, references to the instrument library, versions, the command."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from plans.drafting import do_draft_plan
from plans.models import PlanRuleSet
from plans.rules import (
    DEFAULT_RULES,
    RuleSetError,
    check_rules,
    current_rule_set,
    do_save_rule_set,
    instrument_catalog,
    parse_rules_text,
)
from plans.schema import Domain, InterventionKind, Level

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def defaults() -> dict:
    return json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))


def problems_of(data) -> str:
    with pytest.raises(RuleSetError) as caught:
        check_rules(data)
    return "\n".join(caught.value.problems)


@pytest.fixture
def rules():
    return copy.deepcopy(defaults())


def test_the_shipped_defaults_are_valid_against_the_shipped_instruments():
    parsed = check_rules(defaults())
    # every domain has suggestions for both raised levels
    for domain in Domain.values:
        for level in (Level.MODERATE, Level.HIGH):
            assert parsed.rule_for(domain, level) is not None, (domain, level)
    # the examples
    mental = parsed.rule_for(Domain.MENTAL_HEALTH, Level.MODERATE).goals[0].interventions
    assert {"counseling", "course"} <= {i.kind for i in mental}
    counseling = next(i for i in mental if i.kind == InterventionKind.COUNSELING)
    assert counseling.interval_days == 14
    substance = parsed.rule_for(Domain.SUBSTANCE_USE, Level.HIGH).goals[0].interventions
    assert any(i.kind == InterventionKind.REFERRAL for i in substance)
    assert {(s.instrument, s.band_at_least) for s in parsed.signals.results} >= {
        ("phq9", "moderate"),
        ("audit", "zone_3"),
    }
    employment = parsed.rule_for(Domain.EMPLOYMENT, Level.HIGH).goals[0].interventions
    assert {i.kind for i in employment} == {"course", "referral"}


def test_the_catalog_lists_bands_lowest_first():
    catalog = instrument_catalog()
    assert catalog["phq9"]["total"] == [
        "minimal",
        "mild",
        "moderate",
        "moderately_severe",
        "severe",
    ]
    assert catalog["rosenberg"]["total"] == []


def test_an_unknown_instrument_in_a_signal_is_named(rules):
    rules["signals"]["results"][0]["instrument"] = "phq99"
    assert "unknown instrument 'phq99'" in problems_of(rules)


def test_an_unknown_band_is_named_with_the_known_ones(rules):
    rules["signals"]["results"][0]["band_at_least"] = "catastrophic"
    text = problems_of(rules)
    assert "signal on phq9.total: unknown band 'catastrophic'" in text
    assert "moderately_severe" in text


def test_a_band_on_a_scale_without_bands_is_refused(rules):
    rules["signals"]["results"].append(
        {"instrument": "rosenberg", "band_at_least": "low", "domain": "social", "level": "high"}
    )
    assert "this scale has no bands" in problems_of(rules)


def test_an_unknown_instrument_in_a_retest_is_named_with_its_goal(rules):
    rule = next(r for r in rules["rules"] if r["domain"] == "mental_health")
    rule["goals"][0]["interventions"].append({"kind": "retest", "instrument": "nope"})
    text = problems_of(rules)
    assert "unknown instrument 'nope'" in text
    assert "改善情绪状态" in text


def test_a_goal_without_a_target_is_named(rules):
    rules["rules"][0]["goals"][0]["target"] = {"zh-hans": "  ", "en": ""}
    text = problems_of(rules)
    assert "按时完成每月法治学习" in text and "measurable target is required" in text
    del rules["rules"][0]["goals"][0]["target"]
    assert "measurable target is required" in problems_of(rules)


def test_other_mistakes_are_named_too(rules):
    bad = copy.deepcopy(rules)
    bad["rules"].append(copy.deepcopy(bad["rules"][0]))
    twice = "The rule for Legal knowledge and attitudes, level Low is listed twice"
    assert twice in problems_of(bad)
    bad = copy.deepcopy(rules)
    bad["signals"]["facts"][0]["values"] = ["on_the_moon"]
    assert "unknown value(s) on_the_moon" in problems_of(bad)
    bad = copy.deepcopy(rules)
    bad["rules"][0]["goals"][0]["interventions"] = [{"kind": "course"}]
    assert "either a course slug or a topic" in problems_of(bad)
    bad = copy.deepcopy(rules)
    bad["rules"][0]["goals"][0]["interventions"] = [{"kind": "counseling", "interval_days": 1}]
    assert "interval_days" in problems_of(bad)
    bad = copy.deepcopy(rules)
    bad["rules"][0]["goals"][0]["interventions"] = [{"kind": "referral", "service": "x"}]
    assert "contact" in problems_of(bad)
    bad = copy.deepcopy(rules)
    bad["surprise"] = 1
    assert "surprise" in problems_of(bad)
    with pytest.raises(RuleSetError, match="not valid JSON"):
        parse_rules_text("{nope")


def test_the_migration_loaded_the_defaults_as_version_one():
    row, parsed = current_rule_set()
    assert row.version == 1
    assert parsed == check_rules(defaults())


def test_a_rule_set_changes_in_place_until_a_plan_used_it(org, rules):
    row, outcome = do_save_rule_set(check_rules(defaults()), org.administrator, "same")
    assert (row.version, outcome) == (1, "unchanged")
    rules["intensity"]["high_at"] = 6
    row, outcome = do_save_rule_set(check_rules(rules), org.administrator, "stricter")
    assert (row.version, outcome) == (1, "updated")
    plan = do_draft_plan(org.person, org.counselor, "first plan")
    assert plan.rule_set == row
    rules["intensity"]["high_at"] = 7
    new, outcome = do_save_rule_set(check_rules(rules), org.administrator, "even stricter")
    assert (new.version, outcome) == (2, "created")
    row.refresh_from_db()
    assert row.rules["intensity"]["high_at"] == 6  # the used version is untouched
    assert current_rule_set()[0] == new


def test_the_command_loads_a_file_and_refuses_a_bad_one(tmp_path, rules):
    out = StringIO()
    call_command("load_plan_rules", stdout=out)
    assert "plan rules v1 unchanged" in out.getvalue()
    bad = tmp_path / "bad.json"
    rules["signals"]["results"][0]["band_at_least"] = "catastrophic"
    bad.write_text(json.dumps(rules), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing loaded"):
        call_command("load_plan_rules", str(bad), stderr=err)
    assert "unknown band 'catastrophic'" in err.getvalue()
    assert PlanRuleSet.objects.count() == 1
