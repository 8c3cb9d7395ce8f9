"""A counselor at desktop size, in Chinese: the open critical alert is the first panel on the
admin home; the counselor acknowledges it, reads the result, signs the review, finds the plan
it drafted and approves it."""

from __future__ import annotations

import pytest

from assessments.models import Alert
from plans.models import Plan, PlanStatus
from tests.assessments.helpers import submitted
from tests.browser.test_plan_edit_journey import shot, sign_in
from tests.factories import make_org, make_totp_device
from tests.plans.helpers import intake

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHQ9_CRITICAL = [2, 1, 1, 1, 1, 1, 1, 2, 1]  # total 11, item 9 "好几天"


@pytest.fixture
def alerted(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    org = make_org()
    intake(org.person, org.officer, employment="unemployed")
    result = submitted(org.person, PHQ9_CRITICAL, by=org.counselor)
    assert Alert.objects.filter(result=result, acknowledged_at=None).exists()
    return result, make_totp_device(org.counselor)


def test_a_counselor_answers_an_alert_signs_the_review_and_approves_the_plan(
    live_server, alerted, browser
):
    result, device = alerted
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, live_server.url, "counselor", device, "/admin/")

    # the open alert's panel comes before every other panel, with the time left
    first = page.locator("main section.panel, main .panel").first
    assert first.get_attribute("data-testid") == "home-open-alerts"
    panel = page.inner_text("[data-testid=home-open-alerts]")
    assert "张三" in panel and "PHQ-9" in panel
    assert "小时" in page.inner_text("[data-testid=home-alert-left]")
    shot(page, "journeys-counselor-home")
    page.click("[data-testid=home-alert-open]")
    page.wait_for_load_state("networkidle")

    assert "危机条目" in page.inner_text("[data-testid=alert]")
    page.click("[data-testid=acknowledge]")
    page.wait_for_load_state("networkidle")
    assert "确认" in page.inner_text("[data-testid=alert]")
    assert page.locator("[data-testid=acknowledge]").count() == 0

    page.fill("textarea[name=interpretation]", "第 9 题有消极想法，已电话联系，本人安全。")
    page.fill("textarea[name=released_summary]", "谢谢您如实填写，我们会一起想办法。")
    page.click("[data-testid=review-form] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已电话联系" in page.inner_text("[data-testid=review]")
    shot(page, "journeys-counselor-result")

    # the signed review drafted a plan: it waits in the plan list
    page.get_by_role("button", name="帮扶方案").click()  # the menu by job: plans and files
    page.get_by_role("link", name="全部方案").click()
    page.wait_for_load_state("networkidle")
    plan = Plan.objects.get(person=result.person, status=PlanStatus.DRAFT)
    listing = page.inner_text("[data-testid=plan-list]")
    assert "张三" in listing and "草稿" in listing
    page.click(f"[data-testid=plan-link-{plan.pk}]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=plan-detail]", "data-status") == "draft"
    page.click("[data-testid=approve-plan]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("[data-testid=plan-detail]", "data-status") == "approved"
    outcomes = page.inner_text(".messages")  # no course is published: each topic by its name
    assert "没有已发布的课程符合“心理健康”" in outcomes and "mental_health" not in outcomes
    assert "矫正对象尚未确认阅读" in page.inner_text("[data-testid=not-acknowledged]")
    shot(page, "journeys-counselor-plan")
    assert Alert.objects.get(result=result).acknowledged_at is not None
    desk.close()
