"""Course pages through the “课程审核” workflow in a browser, in Chinese, at desktop size: a
lecturer edits a lesson and submits it for review; an editor opens what waits for review,
approves it, and the page is live."""

from __future__ import annotations

import pytest
from wagtail.models import Page

from cms.models import HomePage
from courses import services
from courses.models import CourseIndexPage, CoursePage, LessonPage
from tests.browser.test_plan_edit_journey import shot, sign_in
from tests.factories import make_org, make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


def course_tree(author) -> tuple[CoursePage, LessonPage]:
    """A course index set up for review, with a draft course and lesson ``author`` wrote."""
    index = CourseIndexPage(title="课程", slug="courses")
    HomePage.objects.first().add_child(instance=index)
    services.ensure_course_permissions(index)
    course = CoursePage(
        title="《民法典》入门",
        slug="civil-code",
        summary="合同与借贷的基本知识。",
        intended_categories=["normal"],
        live=False,
        owner=author,
    )
    index.add_child(instance=course)
    course.save_revision(user=author)
    lesson = LessonPage(title="合同与借款", slug="contracts", expected_seconds=300, live=False)
    lesson.owner = author
    course.add_child(instance=lesson)
    lesson.save_revision(user=author)
    return course, lesson


@pytest.fixture
def lecturer_draft(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    org = make_org()
    _course, lesson = course_tree(org.lecturer)
    return lesson, make_totp_device(org.lecturer)


@pytest.fixture
def submitted(django_db_serialized_rollback):
    org = make_org()
    course, _lesson = course_tree(org.lecturer)
    course.get_workflow().start(course, org.lecturer)
    return course, make_totp_device(org.editor)


def test_a_lecturer_edits_a_lesson_and_submits_it_for_review(live_server, lecturer_draft, browser):
    lesson, device = lecturer_draft
    desk = browser.new_context(**DESK)
    page = desk.new_page()
    sign_in(page, live_server.url, "lecturer", device, f"/admin/pages/{lesson.pk}/edit/")
    assert page.url.endswith(f"/admin/pages/{lesson.pk}/edit/")
    page.fill("#id_title", "合同与借款（修订）")
    page.click("footer [data-w-dropdown-target=toggle]")
    submit = page.locator("footer button[name=action-submit]")
    assert "提交" in submit.inner_text()
    submit.click()
    page.wait_for_load_state("networkidle")

    assert "已经提交进行审核" in page.inner_text(".messages")
    page.goto(f"{live_server.url}/admin/pages/{lesson.pk}/edit/")
    shot(page, "journeys-lecturer-submitted")
    banner = page.inner_text("body")
    assert "此页面正在等待审核" in banner and "awaiting" not in banner
    assert "取消工作流" in page.inner_text("footer")
    lesson = Page.objects.get(pk=lesson.pk).specific
    assert lesson.workflow_in_progress
    assert lesson.current_workflow_task.name == services.TASK_NAME
    assert not lesson.live
    assert lesson.draft_title == "合同与借款（修订）"
    desk.close()


def test_an_editor_approves_a_submitted_course_and_it_goes_live(live_server, submitted, browser):
    course, device = submitted
    desk = browser.new_context(**DESK)
    page = desk.new_page()
    sign_in(page, live_server.url, "editor", device, "/admin/")
    # the editor's home lists what waits for their review
    shot(page, "journeys-editor-home")
    home = page.inner_text("main")
    assert "等您审核的课程页面" in home and "Pages" not in home and "editor guide" not in home
    awaiting = page.locator("[data-testid=home-pages-to-review]")
    assert "《民法典》入门" in awaiting.inner_text()
    awaiting.get_by_role("link", name="审阅").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/admin/pages/{course.pk}/edit/")
    shot(page, "journeys-editor-review")
    page.click("footer [data-w-dropdown-target=toggle]")
    approve = page.locator(
        "footer button[data-workflow-action-name=approve]:not([data-workflow-action-modal-url])"
    )
    assert "批准" in approve.inner_text()
    approve.click()
    page.wait_for_load_state("networkidle")

    message = page.inner_text(".messages")
    assert "《民法典》入门" in message, message
    shot(page, "journeys-editor-approved")
    assert "在用" in page.inner_text("main")  # the course's status in the listing: live
    course = CoursePage.objects.get(pk=course.pk)
    assert course.live
    assert not course.workflow_in_progress
    assert course.live_revision.user.username == "lecturer"
    desk.close()
