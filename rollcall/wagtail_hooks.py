from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from lib.admin_menu import AdminMenuItem
from people.roles import Role, home_roles
from rollcall import admin_views
from rollcall.panels import RecentRollCallGapsPanel
from rollcall.services import may_edit_policy, may_start_calls


@hooks.register("register_admin_urls")
def register_rollcall_urls():
    return [
        path("rollcall/", admin_views.index, name="rollcall_admin_index"),
        path("rollcall/start/", admin_views.start_group, name="rollcall_admin_start"),
        path("rollcall/spot/", admin_views.start_spot, name="rollcall_admin_spot"),
        path("rollcall/person/<int:pk>/", admin_views.person_history, name="rollcall_admin_person"),
        path(
            "rollcall/person/<int:pk>/call/",
            admin_views.call_person,
            name="rollcall_admin_call_person",
        ),
        path("rollcall/calls/<int:pk>/", admin_views.call_detail, name="rollcall_admin_call"),
        path("rollcall/targets/<int:pk>/", admin_views.target_detail, name="rollcall_admin_target"),
        path(
            "rollcall/targets/<int:pk>/join/",
            admin_views.target_join,
            name="rollcall_admin_join",
        ),
        path(
            "rollcall/targets/<int:pk>/confirm/",
            admin_views.target_confirm,
            name="rollcall_admin_confirm",
        ),
        path(
            "rollcall/targets/<int:pk>/excuse/",
            admin_views.target_excuse,
            name="rollcall_admin_excuse",
        ),
        path("rollcall/policy/", admin_views.policy, name="rollcall_admin_policy"),
        path(
            "rollcall/policy/<int:version>/restore/",
            admin_views.policy_restore,
            name="rollcall_admin_policy_restore",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_rollcall_menu_item():
    return AdminMenuItem(
        _("Video roll-calls"),
        reverse("rollcall_admin_index"),
        name="video-roll-calls",
        icon_name="media",
        order=215,
        shown_to=may_start_calls,
    )


@hooks.register("register_admin_menu_item")
def register_rollcall_policy_menu_item():
    return AdminMenuItem(
        _("Roll-call rules"),
        reverse("rollcall_admin_policy"),
        name="roll-call-rules",
        icon_name="cogs",
        order=216,
        shown_to=may_edit_policy,
    )


@hooks.register("construct_homepage_panels")
def add_rollcall_home_panel(request, panels):
    if Role.OFFICER in home_roles(request.user):
        panels.append(RecentRollCallGapsPanel(request.user))
