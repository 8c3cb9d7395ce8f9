"""Check-in at the centre: the lecturer puts the code on the screen, a learner scans it with
a phone and is checked in, and the staff's audience list shows them.

A browser cannot point a camera at a screen, so the learner's phone opens the link the code
holds (the screen carries it in ``data-check-in-url``; ``tests/live/test_centre.py`` checks
the code is made of that very link)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from live.models import Lecture, LectureMode
from people.models import Office, Person, User
from tests.browser.test_login_journeys import current_code, sign_in
from tests.factories import make_totp_device


def reload_wall_screen(page) -> None:
    """Reload the check-in screen. It reloads itself every 30 seconds (its QR code changes),
    and a reload that meets its own is aborted (net::ERR_ABORTED on a slow run): then the
    page it loaded instead is as fresh, once it has loaded."""
    try:
        page.reload()
    except PlaywrightError as error:
        if "ERR_ABORTED" not in str(error):
            raise
    page.wait_for_load_state("load")


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def centre_lecture(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    call_command("seed_demo")
    lecturer = User.objects.get(username="lecturer1")
    lecture = Lecture.objects.create(
        title="法治讲座：在矫正中心现场",
        lecturer=lecturer,
        lecturer_title="律师",
        start=timezone.now() - dt.timedelta(minutes=3),
        end=timezone.now() + dt.timedelta(minutes=57),
        mode=LectureMode.CENTRE,
        location="矫正中心二楼报告厅",
    )
    lecture.audience_offices.add(Office.objects.get(code="dongcheng"))
    return lecture, make_totp_device(lecturer)


def test_a_learner_scans_the_code_and_the_staff_list_shows_them(
    live_server, centre_lecture, browser
):
    lecture, device = centre_lecture
    learner = Person.objects.get(user__username="learner1")

    staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    screen = staff.new_page()
    sign_in(screen, live_server.url, "lecturer1")
    screen.goto(f"{live_server.url}/admin/live/lectures/{lecture.pk}/check-in-screen/")
    screen.fill("input[name=token]", current_code(device))
    screen.click("main button[type=submit]")
    screen.wait_for_load_state("networkidle")
    assert screen.url.endswith(f"/admin/live/lectures/{lecture.pk}/check-in-screen/")
    assert screen.get_attribute("[data-testid=check-in-screen]", "data-open") == "1"
    assert screen.is_visible("svg.qr")
    assert "0" in screen.inner_text("[data-testid=present-count]")
    url = screen.get_attribute("[data-testid=check-in-screen]", "data-check-in-url")
    assert url.startswith(f"{live_server.url}/live/check-in/{lecture.pk}/")

    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = phone_context.new_page()
    sign_in(phone, live_server.url, "learner1")
    phone.goto(url)
    phone.wait_for_selector("[data-testid=check-in-done]")
    assert phone.get_attribute("[data-testid=check-in-done]", "data-new") == "1"
    assert "法治讲座：在矫正中心现场" in phone.inner_text("[data-testid=check-in-lecture]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.goto(url)  # scanning again changes nothing
    assert phone.get_attribute("[data-testid=check-in-done]", "data-new") == "0"

    roster = staff.new_page()
    roster.goto(f"{live_server.url}/admin/live/lectures/{lecture.pk}/centre/")
    row = roster.locator(f"[data-testid=centre-row][data-person='{learner.pk}']")
    assert row.get_attribute("data-state") == "in"
    assert learner.full_name in row.inner_text()
    reload_wall_screen(screen)
    assert "1" in screen.inner_text("[data-testid=present-count]")

    # the lecturer checks the learner out from the list
    row.locator("button[value=check_out]").click()
    roster.wait_for_load_state("networkidle")
    row = roster.locator(f"[data-testid=centre-row][data-person='{learner.pk}']")
    assert row.get_attribute("data-state") == "left"
    phone_context.close()
    staff.close()
