"""The participation, quiz and intensity thresholds of the plan rules: the forms that replaced
the JSON box had lost them. Administrators edit them on the rules overview; a change is a
version with a note, and an order that makes no sense is refused in plain Chinese."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from plans.drafting import do_draft_plan
from plans.models import PlanRuleSet
from plans.rules import current_rule_set
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

URL = "plans_rules_thresholds"


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def shown(**overrides) -> dict:
    """The form as the overview shows it for the current rules, with ``overrides``."""
    _row, rules = current_rule_set()
    data = {"note": ""}
    for kind in ("participation", "quiz"):
        signal = getattr(rules.signals, kind)
        if signal is not None:
            data[f"{kind}_on"] = "on"
            for name, value in signal.model_dump(mode="json").items():
                data[f"{kind}_{name}"] = value
        else:
            data[f"{kind}_domain"] = "legal"
    for name, value in rules.intensity.model_dump().items():
        data[f"intensity_{name}"] = value
    return {**data, **overrides}


def test_the_overview_shows_the_thresholds_in_use(client, org, chinese):
    _row, rules = current_rule_set()
    login_staff(client, org.administrator)

    body = client.get(reverse("plans_rules")).content.decode()

    assert 'data-testid="thresholds-form"' in body
    assert reverse(URL) in body
    assert "测验正确率" in body and "帮扶强度" in body
    moderate = rules.signals.participation.moderate_below
    assert f'name="participation_moderate_below" value="{moderate}"' in body


def test_an_administrator_changes_the_thresholds_as_a_new_version(client, org, chinese):
    do_draft_plan(org.person, org.counselor, "v1 is used from now on")
    before = PlanRuleSet.objects.get(version=1).rules
    login_staff(client, org.administrator)

    response = client.post(
        reverse(URL),
        shown(
            participation_moderate_below=60,
            participation_high_below=30,
            quiz_on="",
            intensity_high_at=6,
            note="参与门槛放宽",
        ),
    )

    assert response.status_code == 302
    row, rules = current_rule_set()
    assert row.version == 2 and row.note == "参与门槛放宽" and row.created_by == org.administrator
    assert rules.signals.participation.moderate_below == 60
    assert rules.signals.participation.high_below == 30
    assert rules.signals.quiz is None
    assert rules.intensity.high_at == 6
    assert len(rules.rules) == len(before["rules"])  # every rule kept
    assert PlanRuleSet.objects.get(version=1).rules == before  # the used version unchanged


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"participation_moderate_below": 40, "participation_high_below": 70},
            "“高”的界限不能高于“中”的界限",
        ),
        ({"quiz_moderate_below": 20, "quiz_high_below": 90}, "“高”的界限不能高于“中”的界限"),
        (
            {"intensity_moderate_weight": 5, "intensity_high_weight": 2},
            "计分不能少于等级为“中”的",
        ),
        ({"intensity_medium_at": 8, "intensity_high_at": 3}, "不能低于中等帮扶强度"),
        ({"note": ""}, "必需字段"),
    ],
)
def test_a_wrong_order_or_no_note_is_refused_in_chinese(client, org, chinese, overrides, message):
    before = list(PlanRuleSet.objects.values_list("version", "rules", "note"))
    login_staff(client, org.administrator)

    response = client.post(reverse(URL), shown(**{"note": "改一改", **overrides}))

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "must not" not in body and "Input should" not in body
    assert list(PlanRuleSet.objects.values_list("version", "rules", "note")) == before


def test_a_missing_number_is_refused(client, org, chinese):
    login_staff(client, org.administrator)

    response = client.post(reverse(URL), shown(participation_months="", note="漏填"))

    assert response.status_code == 400
    assert "请填写一个数字" in response.content.decode()


@pytest.mark.parametrize("role", ["counselor", "officer", "lecturer", "editor"])
def test_only_administrators_change_thresholds(client, org, role):
    before = list(PlanRuleSet.objects.values_list("version", "rules"))
    login_staff(client, getattr(org, role))

    response = client.post(reverse(URL), shown(intensity_high_at=9, note="x"))

    assert response.status_code in (302, 403)
    assert list(PlanRuleSet.objects.values_list("version", "rules")) == before
