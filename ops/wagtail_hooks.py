from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from lib.admin_menu import AdminMenuItem
from ops import views
from ops.panels import AccessLogPanel, JobsHealthPanel
from people.roles import Role, home_roles


@hooks.register("register_admin_urls")
def register_ops_urls():
    return [
        path("jobs/", views.job_list, name="ops_jobs"),
        path("jobs/<slug:name>/run/", views.run_now, name="ops_run_now"),
    ]


@hooks.register("register_admin_menu_item")
def register_jobs_menu_item():
    return AdminMenuItem(
        _("Scheduled jobs"),
        reverse("ops_jobs"),
        name="scheduled-jobs",
        icon_name="time",
        order=910,
        shown_to=views.can_view_jobs,
    )


@hooks.register("construct_homepage_panels")
def add_ops_home_panels(request, panels):
    if Role.ADMINISTRATOR in home_roles(request.user):
        panels.append(JobsHealthPanel())
        panels.append(AccessLogPanel())
