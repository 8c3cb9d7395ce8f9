from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.permissions import register_permission_policy

from courses.models import CoursePage, LessonPage
from learning import admin_views, certificate_views, enrollment_views, views
from learning.models import EnrollmentRule
from lib.admin_menu import AdminMenuItem
from people.policies import AdministratorsOnly

register_permission_policy(EnrollmentRule, AdministratorsOnly(EnrollmentRule))

# Course and lesson pages are served as study pages (enrolment checked, progress shown); their
# previews in the admin keep Wagtail's plain rendering.
STUDY_VIEWS = {CoursePage: views.serve_course, LessonPage: views.serve_lesson}


@hooks.register("on_serve_page")
def serve_study_pages(serve_next):
    # Wagtail's view restrictions (a ``before_serve_page`` hook) have run by now.
    def serve(page, request, args, kwargs):
        view = STUDY_VIEWS.get(type(page))
        if view is None:
            return serve_next(page, request, args, kwargs)
        return view(request, page)

    return serve


# --- Enrollment and certificates (learning/enrollment_views.py) ------------------------------


@hooks.register("register_admin_viewset")
def register_enrollment_rule_viewset():
    return enrollment_views.EnrollmentRuleViewSet()


@hooks.register("register_admin_urls")
def register_enrollment_urls():
    return enrollment_views.urlpatterns


@hooks.register("register_admin_urls")
def register_certificate_urls():
    return certificate_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_enrollment_menu_item():
    return AdminMenuItem(
        _("Course enrollments"),
        reverse("learning_enrollment_list"),
        name="course-enrollments",
        icon_name="folder-open-inverse",
        order=305,
        permission=enrollment_views.ADD_ENROLLMENT,
    )


# --- Study progress (learning/admin_views.py): officers, counselors, administrators ---------


@hooks.register("register_admin_urls")
def register_progress_urls():
    return admin_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_progress_menu_item():
    return AdminMenuItem(
        _("Study progress"),
        reverse("learning_progress"),
        name="study-progress",
        icon_name="clipboard-list",
        order=310,
        permission=admin_views.VIEW_PERMISSION,
    )
