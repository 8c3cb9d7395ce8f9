from __future__ import annotations

import pytest
from django.core.management import call_command

from people.demo import demo_person_name
from people.models import User
from tests.browser.test_login_journeys import current_code, sign_in
from tests.factories import make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def officer_device(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    call_command("seed_demo")
    return make_totp_device(User.objects.get(username="officer1"))


def test_officer_follows_progress_and_downloads_it(live_server, officer_device, browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, live_server.url, "officer1")
    page.goto(f"{live_server.url}/admin/progress/")
    page.fill("input[name=token]", current_code(officer_device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/progress/")
    # The menu leads here too.
    assert page.locator("a[href='/admin/progress/']").count() >= 1

    page.click("[data-testid=progress-courses] >> text=《社区矫正法》要点")
    page.wait_for_load_state("networkidle")
    table = page.inner_text("[data-testid=progress-table]")
    assert "SF-2026-0002" in table  # learner2, part-way through the first lesson
    assert demo_person_name(2) in table
    assert "SF-2026-0011" not in table  # learner11, another office
    row = page.locator("[data-testid=progress-row]", has_text="SF-2026-0002")
    assert "0:02" in row.inner_text()  # two minutes of study this morning

    with page.expect_download() as info:
        page.click("[data-testid=export-csv]")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert "SF-2026-0002" in text
    assert demo_person_name(2) in text
    assert "SF-2026-0011" not in text
    assert len(text.strip().splitlines()) == 1 + 10  # header + officer1's ten persons
    context.close()
