"""Issue 17, item 5: saving ``{"signals": {}, "rules": []}`` became the active version with no
note and no way back. Rules are edited with forms per need area and level; a version without
rules or without a note is refused; an earlier version can be made current again."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from plans.drafting import do_draft_plan
from plans.forms import RuleCellForm
from plans.models import PlanRuleSet
from plans.rules import (
    RuleSetError,
    check_rules,
    current_rule_set,
    do_restore_rule_set,
    do_save_rule_set,
    signal_options,
)
from plans.schema import PlanRulesDef
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def cell_data(domain: str, level: str, **overrides) -> dict:
    """What the browser sends back for the cell page as shown."""
    _row, rules = current_rule_set()
    form = RuleCellForm(rules=rules, domain=domain, level=level, options=signal_options("zh-hans"))
    data = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value not in (None, "", [], False):
            data[name] = value
    return {**data, **overrides}


def same(a, b) -> bool:
    parse = PlanRulesDef.model_validate
    return parse(a) == (b if isinstance(b, PlanRulesDef) else parse(b))


# --- The service ------------------------------------------------------------------------------


def test_a_rule_set_without_rules_is_refused_and_nothing_changes(org, chinese):
    before = list(PlanRuleSet.objects.values_list("version", "rules"))
    with pytest.raises(RuleSetError) as caught:
        do_save_rule_set(check_rules({"signals": {}, "rules": []}), org.administrator, "清空")
    assert "至少保留一条规则" in " ".join(caught.value.problems)
    assert list(PlanRuleSet.objects.values_list("version", "rules")) == before


def test_a_change_without_a_note_is_refused(org, chinese):
    _row, rules = current_rule_set()
    changed = rules.model_copy(update={"rules": rules.rules[:-1]})
    with pytest.raises(RuleSetError) as caught:
        do_save_rule_set(changed, org.administrator, "   ")
    assert "说明" in " ".join(caught.value.problems)
    assert same(PlanRuleSet.objects.get().rules, rules)


def test_an_earlier_version_can_be_made_current_again(org):
    first, rules = current_rule_set()
    fewer = rules.model_copy(update={"rules": rules.rules[:-1]})
    second = PlanRuleSet.objects.create(
        version=2,
        rules=fewer.model_dump(mode="json", by_alias=True, exclude_none=True),
        note="fewer",
    )
    row, outcome = do_restore_rule_set(first, org.administrator, "the shorter set was a mistake")
    assert (row.version, outcome) == (3, "created")
    assert same(row.rules, first.rules) and "1" in row.note and "mistake" in row.note
    assert current_rule_set()[0] == row
    second.refresh_from_db()
    assert same(second.rules, fewer)  # earlier versions are never changed
    with pytest.raises(RuleSetError):
        do_restore_rule_set(second, org.administrator, "")


# --- The pages (Chinese) ----------------------------------------------------------------------


def test_the_overview_names_areas_levels_and_versions_in_chinese(client, org, chinese):
    login_staff(client, org.administrator)
    body = client.get(reverse("plans_rules")).content.decode()
    assert "心理健康" in body and "第 1 版" in body and "正在使用" in body
    assert reverse("plans_rules_cell", args=["mental_health", "high"]) in body
    assert "Rules (JSON)" not in body and "<textarea" not in body


def test_an_administrator_changes_a_goal_with_the_form(client, org, chinese):
    login_staff(client, org.administrator)
    url = reverse("plans_rules_cell", args=["mental_health", "high"])
    page = client.get(url)
    assert page.status_code == 200 and "保障心理安全" in page.content.decode()
    response = client.post(
        url, cell_data("mental_health", "high", g0_target_zh="每两周面谈一次", note="更具体")
    )
    assert response.status_code == 302
    row, rules = current_rule_set()
    goal = rules.rule_for("mental_health", "high").goals[0]
    assert goal.target.zh_hans == "每两周面谈一次" and row.note == "更具体"
    assert [s for s in rules.signals.results if (s.domain, s.level) == ("mental_health", "high")]
    assert len(rules.rules) == 15  # every other rule kept


def test_the_form_refuses_a_missing_note_and_a_bad_number_in_plain_chinese(client, org, chinese):
    login_staff(client, org.administrator)
    url = reverse("plans_rules_cell", args=["mental_health", "high"])
    before = PlanRuleSet.objects.get().rules
    response = client.post(url, cell_data("mental_health", "high"))
    assert response.status_code == 400
    response = client.post(
        url, cell_data("mental_health", "high", g0_i0_interval_days="2", note="改间隔")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请输入不小于 7 的数" in body
    assert "Input should" not in body
    assert PlanRuleSet.objects.get().rules == before


def test_restoring_in_the_admin_needs_a_note(client, org, chinese):
    login_staff(client, org.administrator)
    first = PlanRuleSet.objects.get()
    do_draft_plan(org.person, org.counselor, "v1 is used from now on")
    client.post(
        reverse("plans_rules_cell", args=["social", "high"]),
        cell_data("social", "high", g0_remove="on", note="不再建议"),
    )
    second = PlanRuleSet.objects.get(version=2)
    assert second.rules["rules"] != first.rules["rules"]
    url = reverse("plans_rules_restore", args=[first.pk])
    client.post(url, {"note": ""})
    assert PlanRuleSet.objects.count() == 2
    response = client.post(url, {"note": "社会交往的建议还要保留"})
    assert response.status_code == 302
    third = PlanRuleSet.objects.get(version=3)
    assert same(third.rules, first.rules) and current_rule_set()[0] == third
    body = client.get(reverse("plans_rules")).content.decode()
    assert "第 3 版" in body and "社会交往的建议还要保留" in body


def test_staff_other_than_administrators_cannot_reach_the_rule_forms(client, org):
    login_staff(client, org.counselor)
    response = client.get(reverse("plans_rules_cell", args=["mental_health", "high"]))
    assert response.status_code in (302, 403)


def test_the_overview_says_what_its_count_of_signals_counts(client, org, chinese):
    login_staff(client, org.administrator)
    body = client.get(reverse("plans_rules")).content.decode()
    _row, rules = current_rule_set()
    count = len(
        [s for s in rules.signals.results if (s.domain, s.level) == ("mental_health", "high")]
        + [s for s in rules.signals.facts if (s.domain, s.level) == ("mental_health", "high")]
    )
    cell = body.split('data-testid="cell-mental_health-high"')[1].split("</td>")[0]
    assert f"有 {count} 种测评结果或建档情况会把需求提高到此级别" in cell
    assert "提高条件" not in body
