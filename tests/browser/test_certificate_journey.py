from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from courses.models import CoursePage, LessonPage
from learning.models import LessonProgress
from people.models import Person
from tests.browser.test_login_journeys import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COURSE_SLUG = "community-corrections-law"


@pytest.fixture
def completed(django_db_serialized_rollback):
    """The demo, with learner5 through every lesson of the first course (no certificate yet:
    it is issued on the first download). DB work happens before the browser starts."""
    call_command("seed_demo")
    person = Person.objects.get(user__username="learner5")
    course = CoursePage.objects.get(slug=COURSE_SLUG)
    for lesson in LessonPage.objects.child_of(course).live():
        LessonProgress.objects.update_or_create(
            person=person,
            lesson=lesson,
            defaults={
                "credited_seconds": lesson.expected_seconds,
                "quiz_passed": True,
                "completed_at": timezone.now(),
            },
        )
    return course.pk


def test_learner_downloads_a_certificate_that_anyone_can_verify(live_server, completed, browser):
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", accept_downloads=True
    ).new_page()
    sign_in(phone, live_server.url, "learner5")
    button = f"[data-testid=certificate-{completed}]"
    assert phone.is_visible(button)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    with phone.expect_download() as info:
        phone.click(button)
    download = info.value
    name = download.suggested_filename
    assert name.startswith("certificate-") and name.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # Anyone, signed in or not, can check the code printed on it (here: in the file name).
    code = name.removeprefix("certificate-").removesuffix(".pdf")
    visitor = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = visitor.new_page()
    page.goto(f"{live_server.url}/verify/{code[:4]}-{code[4:8]}-{code[8:].lower()}/")
    assert page.is_visible("[data-testid=certificate-valid]")
    assert "《社区矫正法》要点" in page.inner_text("[data-testid=certificate-course]")
    holder = page.inner_text("[data-testid=certificate-holder]")
    assert "*" in holder
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    response = page.goto(f"{live_server.url}/verify/0000-0000-0000/")
    assert response.status == 404
    assert page.is_visible("[data-testid=certificate-not-found]")
    visitor.close()
    phone.context.close()
