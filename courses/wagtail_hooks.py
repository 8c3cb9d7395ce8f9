"""Wagtail admin hooks for course content."""

from __future__ import annotations

from wagtail import hooks

from courses.models import CourseIndexPage
from courses.services import ensure_course_permissions


@hooks.register("after_create_page")
def set_up_review_for_a_new_course_index(request, page):
    """An index made in the admin gets the same authoring rights and review as the demo's."""
    if isinstance(page.specific, CourseIndexPage):
        ensure_course_permissions(page.specific)
