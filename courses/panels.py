"""The admin home's course-review panels (``wagtail_hooks.py``), in place of Wagtail's own:
lecturer → the own course pages in review (waiting, or sent back with changes asked);
editor → the pages waiting for their review. A fixed number of queries whatever the number
of pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, IntegerField, OuterRef, Q
from django.db.models.functions import Cast
from wagtail.admin.ui.components import Component
from wagtail.models import Page, TaskState, WorkflowState, get_default_page_content_type

PANEL_ROWS = 10


@dataclass(frozen=True)
class PageInReview:
    page: Page
    state: WorkflowState
    needs_changes: bool


def own_pages_in_review(user) -> list[PageInReview]:
    """Pages the user owns or sent for review whose review is not finished, latest first
    (three queries). ``object_id`` is text: cast before comparing it with a page id, as
    PostgreSQL compares no text with an integer."""
    owned = Exists(
        Page.objects.filter(owner=user, id=Cast(OuterRef("object_id"), output_field=IntegerField()))
    )
    states = list(
        WorkflowState.objects.active()
        .filter(base_content_type_id=get_default_page_content_type().id)
        .filter(Q(requested_by=user) | owned)
        .select_related("current_task_state__task")
        .order_by("-current_task_state__started_at", "-pk")[:PANEL_ROWS]
    )
    pages = Page.objects.in_bulk([int(state.object_id) for state in states])
    return [
        PageInReview(
            page=pages[int(state.object_id)],
            state=state,
            needs_changes=state.status == WorkflowState.STATUS_NEEDS_CHANGES,
        )
        for state in states
        if int(state.object_id) in pages
    ]


class OwnPagesInReviewPanel(Component):
    name = "courses_own_pages_in_review"
    template_name = "courses/admin/home_own_pages.html"
    order = 20

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": own_pages_in_review(self.user)}


def pages_to_review(user) -> list[TaskState]:
    """Review tasks the user may decide (Wagtail's ``TaskState.objects.reviewable_by``), oldest
    first, each with ``page``: one query per review task of the site's workflows, then two."""
    states = list(
        TaskState.objects.reviewable_by(user)
        .filter(workflow_state__base_content_type_id=get_default_page_content_type().id)
        .select_related("workflow_state__requested_by", "task")
        .order_by("started_at", "pk")[:PANEL_ROWS]
    )
    pages = Page.objects.in_bulk([int(state.workflow_state.object_id) for state in states])
    rows = []
    for state in states:
        state.page = pages.get(int(state.workflow_state.object_id))
        if state.page is not None:
            rows.append(state)
    return rows


class PagesToReviewPanel(Component):
    name = "courses_pages_to_review"
    template_name = "courses/admin/home_pages_to_review.html"
    order = 10

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": pages_to_review(self.user)}
