"""A counselor approves a drafted plan in the admin; the person reads and acknowledges it on a
phone-sized page."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp

from plans.models import Plan, PlanStatus
from tests.factories import PASSWORD, make_totp_device
from tests.plans.helpers import PHQ9_MODERATE, intake, reviewed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def drafted(org, django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    intake(org.person, org.officer, employment="unemployed")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    device = make_totp_device(org.counselor)
    return Plan.objects.get(person=org.person, status=PlanStatus.DRAFT), device


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_counselor_approves_and_the_person_acknowledges_on_a_phone(live_server, drafted, browser):
    plan, device = drafted
    base = live_server.url

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    admin = desk.new_page()
    sign_in(admin, base, "counselor")
    admin.goto(f"{base}/admin/plans/{plan.pk}/")
    assert "/accounts/2fa/verify/" in admin.url
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    admin.fill("input[name=token]", f"{code:06d}")
    admin.click("main button[type=submit]")
    admin.wait_for_load_state("networkidle")
    assert admin.get_attribute("[data-testid=plan-detail]", "data-status") == "draft"
    assert "score 10" in admin.inner_text("[data-testid=needs]")
    admin.click("[data-testid=approve-plan]")
    admin.wait_for_load_state("networkidle")
    assert admin.get_attribute("[data-testid=plan-detail]", "data-status") == "approved"
    assert admin.is_visible("[data-testid=not-acknowledged]")
    desk.close()

    # The person reads it in Chinese on a phone (issue 17: every learner journey in zh-hans).
    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = phone_context.new_page()
    sign_in(phone, base, "learner")
    phone.goto(f"{base}/plans/mine/")
    goals = phone.inner_text("[data-testid=plan-goals]")
    assert "找到稳定工作" in goals  # the employment goal, in the person's plan
    page = phone.inner_text("main")
    # A goal may speak of scores in general ("问卷得分较现在出现可靠下降"); no score is shown.
    assert not re.search(r"得分\s*\d", page) and "score" not in page.lower()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.inner_text("[data-testid=acknowledge-plan]").strip() == "我已读过这份计划"
    phone.click("[data-testid=acknowledge-plan]")
    phone.wait_for_load_state("networkidle")
    assert "确认读过这份计划" in phone.inner_text("[data-testid=plan-acknowledged]")
    phone_context.close()

    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.acknowledged_at is not None
