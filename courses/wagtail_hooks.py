"""Wagtail admin hooks for course content."""

from __future__ import annotations

from wagtail import hooks

from courses.models import CourseIndexPage
from courses.panels import OwnPagesInReviewPanel, PagesToReviewPanel
from courses.services import ensure_course_permissions
from people.roles import Role, home_roles


@hooks.register("after_create_page")
def set_up_review_for_a_new_course_index(request, page):
    """An index made in the admin gets the same authoring rights and review as the demo's."""
    if isinstance(page.specific, CourseIndexPage):
        ensure_course_permissions(page.specific)


@hooks.register("construct_homepage_panels")
def add_course_review_home_panels(request, panels):
    roles = home_roles(request.user)
    if Role.EDITOR in roles:
        panels.append(PagesToReviewPanel(request.user))
    if Role.LECTURER in roles:
        panels.append(OwnPagesInReviewPanel(request.user))
