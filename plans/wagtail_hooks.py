from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from lib.admin_menu import AdminMenuItem
from people.roles import Role, home_roles
from plans import admin_views
from plans.panels import AppointmentsPanel, PlansDuePanel


@hooks.register("register_admin_urls")
def register_plan_urls():
    return [
        path("plans/", admin_views.PlanListView.as_view(), name="plans_plan_list"),
        path(
            "plans/results/",
            admin_views.PlanListView.as_view(results_only=True),
            name="plans_plan_list_results",
        ),
        path("plans/<int:pk>/", admin_views.plan_detail, name="plans_plan_detail"),
        path("plans/<int:pk>/edit/", admin_views.plan_edit, name="plans_plan_edit"),
        path("plans/<int:pk>/approve/", admin_views.plan_approve, name="plans_plan_approve"),
        path("plans/<int:pk>/revise/", admin_views.plan_revise, name="plans_plan_revise"),
        path("plans/<int:pk>/review/", admin_views.plan_review, name="plans_plan_review"),
        path("plans/<int:pk>/note/", admin_views.plan_note, name="plans_plan_note"),
        path("plans/<int:pk>/close/", admin_views.plan_close, name="plans_plan_close"),
        path("plans/<int:pk>/pdf/", admin_views.plan_pdf_view, name="plans_plan_pdf"),
        path("plans/person/<int:pk>/", admin_views.person_plans, name="plans_person"),
        path("plans/person/<int:pk>/intake/", admin_views.intake, name="plans_intake"),
        path("plans/person/<int:pk>/draft/", admin_views.draft_now, name="plans_draft"),
        path(
            "plans/appointments/<int:pk>/",
            admin_views.appointment_record,
            name="plans_appointment",
        ),
        path("plans/rules/", admin_views.rules, name="plans_rules"),
        path(
            "plans/rules/thresholds/",
            admin_views.rules_thresholds,
            name="plans_rules_thresholds",
        ),
        path(
            "plans/rules/<str:domain>/<str:level>/",
            admin_views.rules_cell,
            name="plans_rules_cell",
        ),
        path(
            "plans/rules/versions/<int:pk>/restore/",
            admin_views.rules_restore,
            name="plans_rules_restore",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_plans_menu_item():
    return AdminMenuItem(
        _("Assistance plans"),
        reverse("plans_plan_list"),
        name="assistance-plans",
        icon_name="tasks",
        order=230,
        shown_to=admin_views.may_view_plans,
    )


@hooks.register("register_admin_menu_item")
def register_rules_menu_item():
    return AdminMenuItem(
        _("Plan rules"),
        reverse("plans_rules"),
        name="plan-rules",
        icon_name="cogs",
        order=240,
        permission="plans.change_planruleset",
    )


@hooks.register("construct_homepage_panels")
def add_plan_home_panels(request, panels):
    if Role.COUNSELOR in home_roles(request.user):
        panels.append(AppointmentsPanel(request.user))
        panels.append(PlansDuePanel(request.user))
