"""Issue 17, item 1: a counselor edits a plan in Chinese. Dates travel as ISO values (the
browser's date input accepts nothing else) and every refusal is a plain Chinese sentence,
never a pydantic message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from plans.editing import do_update_plan
from plans.errors import PlanError
from plans.models import Plan
from tests.factories import login_staff
from tests.plans.helpers import drafted

pytestmark = pytest.mark.django_db

PYDANTIC_WORDS = ("Input should", "pydantic", "valid date", "Value error")


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def plan(org, chinese) -> Plan:
    plan = drafted(org)
    plan.goals.update(due=dt.date(2027, 3, 7))
    return plan


def form_data(plan: Plan, **overrides) -> dict:
    data = {
        "revision": plan.revision,
        "reason": "一起商量过",
        "phase": plan.phase,
        "support_intensity": plan.support_intensity,
        "intensity_explanation": plan.intensity_explanation,
    }
    for goal in plan.goals.all():
        data.update(
            {
                f"g{goal.pk}_domain": goal.domain,
                f"g{goal.pk}_title": goal.title,
                f"g{goal.pk}_target": goal.target,
                f"g{goal.pk}_due": goal.due.isoformat(),
            }
        )
        for intervention in goal.interventions.all():
            for name, value in intervention.details.items():
                if name != "kind":
                    data[f"i{intervention.pk}_{name}"] = value
    return {**data, **overrides}


def test_the_edit_page_in_chinese_shows_each_due_date_as_an_iso_value(client, org, plan):
    login_staff(client, org.counselor)
    body = client.get(reverse("plans_plan_edit", args=[plan.pk])).content.decode()
    assert 'lang="zh-hans"' in body or "保存" in body
    for goal in plan.goals.all():
        assert f'name="g{goal.pk}_due" value="2027-03-07"' in body
    assert "2027/03/07" not in body


def test_the_page_as_the_browser_sends_it_back_saves(client, org, plan):
    login_staff(client, org.counselor)
    goal = plan.goals.first()
    response = client.post(
        reverse("plans_plan_edit", args=[plan.pk]),
        form_data(plan, **{f"g{goal.pk}_due": "2027-04-01"}),
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.due == dt.date(2027, 4, 1)


def test_an_emptied_due_date_is_refused_in_plain_chinese_beside_the_field(client, org, plan):
    login_staff(client, org.counselor)
    goal = plan.goals.first()
    response = client.post(
        reverse("plans_plan_edit", args=[plan.pk]), form_data(plan, **{f"g{goal.pk}_due": ""})
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请为目标填写截止日期" in body
    assert not any(word in body for word in PYDANTIC_WORDS)
    goal.refresh_from_db()
    assert goal.due == dt.date(2027, 3, 7)


def test_the_service_names_a_bad_date_in_plain_chinese(org, plan):
    goal = plan.goals.first()
    with pytest.raises(PlanError) as caught:
        do_update_plan(
            plan,
            {"goals_update": [{"id": goal.pk, "due": ""}]},
            org.counselor,
            "改日期",
            plan.revision,
        )
    text = str(caught.value)
    assert goal.title in text and "截止日期" in text and "2027-03-07" in text
    assert not any(word in text for word in PYDANTIC_WORDS)
    assert caught.value.field == f"g{goal.pk}_due"


def test_a_bad_intervention_number_is_refused_in_plain_chinese_beside_its_field(client, org, plan):
    login_staff(client, org.counselor)
    intervention = next(
        i for g in plan.goals.all() for i in g.interventions.all() if i.kind == "counseling"
    )
    response = client.post(
        reverse("plans_plan_edit", args=[plan.pk]),
        form_data(plan, **{f"i{intervention.pk}_interval_days": "两周"}),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "间隔（天）" in body and "请输入整数" in body
    assert not any(word in body for word in PYDANTIC_WORDS)
