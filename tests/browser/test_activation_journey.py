"""An officer issues an activation code at check-in; the person activates on a 360 px phone in
Chinese and lands on the learner home."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import totp

from people.models import ActivationCode, Category, Person, User
from people.roles import Role
from tests.factories import make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NEW_PASSWORD = "spring-garden-58"


@pytest.fixture
def newcomer(django_db_serialized_rollback):
    """The demo bureau plus a person as the roster import leaves them: no usable password."""
    call_command("seed_demo")
    officer = User.objects.get(username="officer1")
    user = User(username="sf-2026-9001", name="王小明")
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=Role.LEARNER))
    today = timezone.localdate()
    person = Person.objects.create(
        user=user,
        case_number="SF-2026-9001",
        full_name="王小明",
        office=officer.office,
        category=Category.NORMAL,
        supervision_start=today,
        supervision_end=today + dt.timedelta(days=365),
        case_officer=officer,
    )
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    return person, make_totp_device(officer)


def current_code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_officer_issues_a_code_and_the_person_activates_on_a_phone(live_server, newcomer, browser):
    person, device = newcomer
    base = live_server.url

    # The officer, at a desk, in Chinese.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "officer1")
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("main button[type=submit]")
    page.goto(f"{base}/admin/people/{person.pk}/")
    page.fill("input[name=token]", current_code(device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    status = page.inner_text("[data-testid=activation-status]")
    assert "尚未激活" in status
    button = page.locator("[data-testid=activation-button]")
    assert button.inner_text().strip() == "生成激活码"
    button.click()
    page.wait_for_selector("[data-testid=activation-issued]")
    code = page.inner_text("[data-testid=activation-code]").strip()
    login = page.inner_text("[data-testid=activation-login]").strip()
    assert login == "sf-2026-9001"
    assert len(code.replace(" ", "")) == 8
    assert page.is_visible("[data-testid=activation-qr]")
    desk.close()
    assert ActivationCode.objects.filter(person=person).live().count() == 1

    # The person, on a 360 px phone, from the sign-in page.
    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    mobile = phone.new_page()
    mobile.goto(f"{base}/accounts/login/")
    mobile.click("text=第一次使用？用激活码设置密码")
    mobile.wait_for_selector("[data-testid=activate]")
    assert "设置密码" in mobile.inner_text("h1")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
    mobile.fill("input[name=login]", login)
    wrong = "0000 0000" if code != "0000 0000" else "1111 1111"
    mobile.fill("input[name=code]", wrong)
    mobile.fill("input[name=new_password1]", NEW_PASSWORD)
    mobile.fill("input[name=new_password2]", NEW_PASSWORD)
    mobile.click("main button[type=submit]")
    assert "登录名或激活码不对" in mobile.inner_text("[data-testid=activate-error]")
    mobile.fill("input[name=code]", code)
    mobile.fill("input[name=new_password1]", NEW_PASSWORD)
    mobile.fill("input[name=new_password2]", NEW_PASSWORD)
    mobile.click("main button[type=submit]")
    mobile.wait_for_load_state("networkidle")
    assert mobile.url.rstrip("/") == base
    body = mobile.inner_text("main")
    assert "密码设置好了" in body
    assert "你好" in body
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
    phone.close()

    person.user.refresh_from_db()
    assert person.user.check_password(NEW_PASSWORD)
