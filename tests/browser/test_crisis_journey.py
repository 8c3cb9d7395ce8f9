"""A learner on a phone, in Chinese: a worrying answer on the PHQ-9 leads at once to the help
page; a learner with an approved plan sees the appointments and can download one."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.browser.test_login_journeys import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(django_db_serialized_rollback):
    call_command("seed_demo")


def test_a_critical_answer_shows_the_help_page_on_a_phone(live_server, demo, phone):
    sign_in(phone, live_server.url, "learner1")
    phone.click("[data-testid=dashboard-questionnaires] a >> text=PHQ-9")
    phone.wait_for_load_state("networkidle")
    if "/privacy/" in phone.url:
        phone.click("main button[type=submit]")
        phone.wait_for_load_state("networkidle")
    for number in range(1, 10):
        option = 1 if number == 9 else 0  # item 9: "好几天"
        phone.click(f"button.q-option >> nth={option}")
        phone.wait_for_load_state("networkidle")
    phone.click("[data-testid=submit]")
    phone.wait_for_load_state("networkidle")

    assert phone.url.endswith("/support/")
    page = phone.inner_text("main")
    assert "咨询师今天会联系您" in page
    for number in ("110", "120", "12356"):
        assert number in page
    assert phone.get_attribute("[data-testid=call-12356]", "href") == "tel:12356"
    assert "谢谢您。您的心理咨询师" not in page
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_learner_sees_appointments_and_adds_one_to_the_calendar(live_server, demo, phone):
    sign_in(phone, live_server.url, "learner3")  # learner3: an approved plan with counseling
    phone.goto(f"{live_server.url}/plans/mine/")
    appointments = phone.inner_text("[data-testid=my-appointments]")
    assert "地点：" in appointments and "10:00" in appointments
    with phone.expect_download() as info:
        phone.click("[data-testid=appointment-ics] >> nth=0")
    body = open(info.value.path(), encoding="utf-8").read()
    assert body.startswith("BEGIN:VCALENDAR") and "DTSTART:" in body
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
