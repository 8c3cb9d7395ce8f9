from __future__ import annotations

import pytest
from django.core.management import call_command
from django_otp.oath import totp

from people.models import User
from tests.factories import make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo(django_db_serialized_rollback):
    call_command("seed_demo")


@pytest.fixture
def officer_device(demo):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    return make_totp_device(User.objects.get(username="officer1"))


def current_code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_learner_signs_in_on_a_phone_and_sees_own_dashboard(live_server, demo, phone):
    sign_in(phone, live_server.url, "learner1")
    body = phone.inner_text("main")
    assert "你好" in body
    assert "东城司法所" in body
    assert "本月学习时长" in body
    # The questionnaire buttons stand without stray bullets.
    questionnaires = "[data-testid=dashboard-questionnaires]"
    assert phone.eval_on_selector(questionnaires, "el => getComputedStyle(el).listStyleType") == (
        "none"
    )
    # nothing overflows a 360 px screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # switch to English with one click
    phone.click("button[lang=en]")
    phone.wait_for_load_state("networkidle")
    assert "This month's study hours" in phone.inner_text("main")
    # the staff workspace is closed to learners
    phone.goto(f"{live_server.url}/admin/people/")
    assert "SF-2026-0011" not in phone.content()


def test_officer_sees_own_office_in_the_workspace(live_server, officer_device, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, "officer1")
    # the password alone opens nothing but the second step (security round 2): every page,
    # the front end's too, asks for it and then returns to the requested page
    assert "/accounts/2fa/verify/" in page.url
    page.goto(f"{live_server.url}/notifications/")
    assert "/accounts/2fa/verify/" in page.url
    page.goto(f"{live_server.url}/admin/people/")
    assert "/accounts/2fa/verify/" in page.url
    assert page.is_visible("[data-testid=twofactor-verify]")
    page.fill("input[name=token]", current_code(officer_device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/people/")
    table = page.inner_text("[data-testid=person-list]")
    assert "SF-2026-0001" in table  # learner1, officer1's office
    assert "SF-2026-0011" not in table  # learner11, another office
    response = page.goto(f"{live_server.url}/admin/people/999999/")
    assert response.status == 404
    context.close()
