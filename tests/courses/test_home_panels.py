"""The admin home's course-review panels: the lecturer's own pages in review and the pages
waiting for an editor; scoped, and at a fixed number of queries."""

from __future__ import annotations

import pytest
from wagtail.models import WorkflowState

from cms.models import HomePage
from courses import services
from courses.models import CourseIndexPage, CoursePage
from courses.panels import PANEL_ROWS, own_pages_in_review, pages_to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def index(db) -> CourseIndexPage:
    home = HomePage.objects.first()
    page = CourseIndexPage(title="课程", slug="courses")
    home.add_child(instance=page)
    services.ensure_course_permissions(page)
    return page


def submitted(index, author, title: str) -> CoursePage:
    """A course page ``author`` wrote and submitted for review."""
    page = CoursePage(title=title, slug=f"c{CoursePage.objects.count()}", owner=author, live=False)
    index.add_child(instance=page)
    page.save_revision(user=author)
    page.get_workflow().start(page, author)
    return page


def test_the_lecturer_sees_their_pages_in_review_and_changes_asked(org, index):
    waiting = submitted(index, org.lecturer, "《民法典》入门")
    sent_back = submitted(index, org.lecturer, "劳动合同")
    WorkflowState.objects.filter(object_id=str(sent_back.pk)).update(
        status=WorkflowState.STATUS_NEEDS_CHANGES
    )
    submitted(index, org.administrator, "别人的课程")

    rows = {row.page.pk: row for row in own_pages_in_review(org.lecturer)}

    assert set(rows) == {waiting.pk, sent_back.pk}
    assert rows[sent_back.pk].needs_changes and not rows[waiting.pk].needs_changes
    assert own_pages_in_review(org.editor) == []


def test_the_editor_sees_the_pages_waiting_for_review(org, index):
    page = submitted(index, org.lecturer, "《民法典》入门")
    (state,) = pages_to_review(org.editor)
    assert state.page.pk == page.pk and state.workflow_state.requested_by == org.lecturer
    assert pages_to_review(org.lecturer) == []  # authors do not review
    assert pages_to_review(org.officer) == []


def test_the_review_panels_read_a_fixed_number_of_queries(
    org, index, django_assert_max_num_queries
):
    submitted(index, org.lecturer, "第 0 课")
    with django_assert_max_num_queries(8) as few:
        own_pages_in_review(org.lecturer)
        pages_to_review(org.editor)
    for number in range(PANEL_ROWS + 2):
        submitted(index, org.lecturer, f"第 {number + 1} 课")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(own_pages_in_review(org.lecturer)) == PANEL_ROWS
        assert len(pages_to_review(org.editor)) == PANEL_ROWS
