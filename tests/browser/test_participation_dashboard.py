from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from people.models import User
from tests.browser.test_login_journeys import current_code, sign_in
from tests.factories import make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
# The heading in Chinese once the catalogue is compiled, in English before.
HEADINGS = ("本月还没达到100%的人", "Not yet complete this month")


@pytest.fixture
def officer_device(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    from participation.rollups import refresh_month

    call_command("seed_demo")
    refresh_month(timezone.localdate())
    return make_totp_device(User.objects.get(username="officer1"))


def test_officer_home_shows_who_is_not_yet_complete_and_drills_down(
    live_server, officer_device, browser
):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "officer1")
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=token]", current_code(officer_device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")

    panel = page.locator("[data-testid=participation-home-panel]")
    heading = panel.locator("h2").inner_text()
    assert heading in HEADINGS
    first = panel.locator("tbody tr").first
    name = first.locator("td a").first.inner_text()
    # what is missing, without its day (the home says 12月10日 前, the months 2026-12-10 前)
    missing = first.locator(".participation-missing li").first.evaluate(
        "li => li.firstChild.textContent.trim()"
    )
    assert name and missing

    # the name leads to the person page; the status to the person's months
    assert "/admin/people/" in first.locator("td a").first.get_attribute("href")
    first.locator("[data-testid=participation-home-months]").click()
    page.wait_for_load_state("networkidle")
    assert name in page.inner_text("main")
    months = page.inner_text("[data-testid=participation-person-months]")
    assert missing.split(" — ")[0] in months
    # The menu leads to the office figures with the charts.
    page.goto(f"{live_server.url}/admin/participation/")
    assert page.locator("figure[data-testid=participation-heatmap] svg").count() == 1
    context.close()
