"""Issue 17, items 1, 2 and 5 in a browser, in Chinese: a counselor edits a draft's due dates
(the date inputs hold ISO values) and approves it (one counseling series, no double booking);
an administrator changes a rule with the form and finds the new version labelled in Chinese."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import pytest
from django_otp.oath import totp

from plans.models import CounselingAppointment, Plan, PlanRuleSet, PlanStatus
from tests.factories import PASSWORD, make_totp_device
from tests.plans.helpers import PHQ9_MODERATE, intake, reviewed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.fixture
def drafted(org, django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    intake(org.person, org.officer, employment="unemployed", family="conflict")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)
    plan.goals.update(due=dt.date(2027, 3, 7))
    return plan, make_totp_device(org.counselor), make_totp_device(org.administrator)


def sign_in(page, base: str, username: str, device, then: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}{then}")
    if "/accounts/2fa/verify/" in page.url:
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        page.fill("input[name=token]", f"{code:06d}")
        page.click("main button[type=submit]")
        page.wait_for_load_state("networkidle")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_counselor_edits_dates_and_approves_in_chinese(live_server, drafted, browser):
    plan, counselor_device, _admin_device = drafted
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "counselor", counselor_device, f"/admin/plans/{plan.pk}/edit/")
    assert "保存草稿" in page.inner_text("[data-testid=plan-edit-form]")
    goals = list(plan.goals.order_by("position", "pk"))
    for goal in goals:  # the browser kept each date: it was sent as an ISO value
        assert page.input_value(f"input[name=g{goal.pk}_due]") == "2027-03-07"
    page.fill(f"input[name=g{goals[0].pk}_due]", "2027-04-01")
    page.fill("input[name=reason]", "和本人商量后推迟")
    shot(page, "plan-edit-zh")
    page.click("[data-testid=save-plan]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=plan-detail]", "data-status") == "draft"
    goals[0].refresh_from_db()
    assert goals[0].due == dt.date(2027, 4, 1)

    page.click("[data-testid=approve-plan]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=plan-detail]", "data-status") == "approved"
    shot(page, "plan-approved-zh")
    times = list(
        CounselingAppointment.objects.filter(person=plan.person).values_list(
            "scheduled_at", flat=True
        )
    )
    assert times and max(Counter(times).values()) == 1
    assert len(times) == 6  # mental health and family counseling: one series
    desk.close()


def test_an_administrator_changes_a_rule_with_the_form_in_chinese(live_server, drafted, browser):
    _plan, _counselor_device, admin_device = drafted
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "administrator", admin_device, "/admin/plans/rules/")
    assert "心理健康" in page.inner_text("[data-testid=rules-cells]")
    assert "第 1 版" in page.inner_text("[data-testid=rule-versions]")
    page.click("[data-testid=cell-family-high] a")
    page.wait_for_load_state("networkidle")
    # each intervention row shows only its kind's parameters
    assert page.is_visible("input[name=g0_i0_interval_days]")
    assert page.is_hidden("input[name=g0_i0_service]")
    page.fill("input[name=g0_target_zh]", "三个月内与家人至少和解一次")
    page.click("[data-testid=save-rules]")  # without a note the browser does not even send it
    assert page.evaluate("document.querySelector('input[name=note]').validity.valueMissing")
    assert PlanRuleSet.objects.count() == 1
    page.fill("input[name=note]", "目标写得更具体")
    shot(page, "rules-cell-zh")
    page.click("[data-testid=save-rules]")
    page.wait_for_load_state("networkidle")
    versions = page.inner_text("[data-testid=rule-versions]")
    assert "目标写得更具体" in versions
    shot(page, "rules-zh")
    current = PlanRuleSet.objects.order_by("-version").first()
    cells = {(r["domain"], r["level"]): r for r in current.rules["rules"]}
    family = cells[("family", "high")]
    assert family["goals"][0]["target"]["zh-hans"] == "三个月内与家人至少和解一次"
    desk.close()
