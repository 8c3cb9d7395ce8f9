from __future__ import annotations

import pytest

from assessments.models import Result
from people.privacy import do_acknowledge
from tests.assessments.helpers import assign
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def gad7_assignment(org, django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    return assign(org.person, org.counselor, slug="gad7")


def test_learner_answers_a_questionnaire_on_a_phone_and_resumes_after_closing_it(
    live_server, gad7_assignment, browser
):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    phone = context.new_page()
    base = live_server.url
    phone.goto(f"{base}/accounts/login/")
    phone.fill("input[name=username]", "learner")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_load_state("networkidle")

    phone.click("[data-testid=dashboard-questionnaires] a")
    phone.click("[data-testid=privacy-ack-button]")  # first questionnaire: notice first
    assert phone.inner_text("[data-testid=item-counter]").strip()
    for _ in range(3):
        phone.click("[data-testid=option-1]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # close the tab; a new one resumes at the first unanswered item
    phone.close()
    phone = context.new_page()
    phone.goto(f"{base}/assessments/{gad7_assignment.pk}/")
    assert phone.get_attribute("[data-testid=progress]", "value") == "3"
    for _ in range(4):
        phone.click("[data-testid=option-2]")
    phone.click("[data-testid=submit]")
    phone.wait_for_load_state("networkidle")
    body = phone.inner_text("main")
    assert "Your counselor will go through this with you." in body
    assert "11" not in body  # 3×1 + 4×2: never shown to the learner
    assert Result.objects.get().scales["total"]["score"] == 11
    context.close()


@pytest.fixture
def k10_assignment(org, django_db_serialized_rollback):
    do_acknowledge(org.person)
    return assign(org.person, org.counselor, slug="k10")


def test_a_skipped_question_is_never_shown_on_a_phone_in_chinese(
    live_server, k10_assignment, browser
):
    """K10: "几乎没有" on item 2 skips item 3, on item 5 skips item 6 (they score 1)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = context.new_page()
    base = live_server.url
    phone.goto(f"{base}/accounts/login/")
    phone.fill("input[name=username]", "learner")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_load_state("networkidle")
    phone.goto(f"{base}/assessments/{k10_assignment.pk}/")

    def counter() -> str:
        return phone.inner_text("[data-testid=item-counter]").strip()

    assert counter() == "第 1 题，共 10 题"
    phone.click("[data-testid=option-1]")
    phone.click("[data-testid=option-0]")  # item 2: 几乎没有
    assert counter() == "第 4 题，共 10 题"
    phone.screenshot(path="/tmp/instruments-k10-item-4.png", full_page=True)  # noqa: S108
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-testid=back]")
    assert counter() == "第 2 题，共 10 题"
    phone.click("[data-testid=next]")
    assert counter() == "第 4 题，共 10 题"
    phone.click("[data-testid=option-1]")
    phone.click("[data-testid=option-0]")  # item 5: 几乎没有
    assert counter() == "第 7 题，共 10 题"
    for _ in range(4):
        phone.click("[data-testid=option-1]")
    assert phone.get_attribute("[data-testid=submit-screen] progress", "value") == "10"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-testid=submit]")
    phone.wait_for_load_state("networkidle")
    assert "谢谢您。您的心理咨询师会和您一起看看这些回答。" in phone.inner_text("main")
    # items 1,4,7-10 score 2; items 2,5 score 1; skipped 3,6 score 1
    assert Result.objects.get().scales["total"]["raw"] == 6 * 2 + 2 + 2
    context.close()
