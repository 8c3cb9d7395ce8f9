from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from lib.admin_menu import AdminMenuItem
from people import activation_views, staff_views, views


@hooks.register("register_admin_urls")
def register_people_urls():
    return [
        path("people/", views.PersonIndexView.as_view(), name="people_person_list"),
        path(
            "people/results/",
            views.PersonIndexView.as_view(results_only=True),
            name="people_person_list_results",
        ),
        path("people/<int:pk>/", views.person_detail, name="people_person_detail"),
        path("people/<int:pk>/export/", views.person_export, name="people_person_export"),
        path("people/import/", views.roster_import, name="people_roster_import"),
        path(
            "people/<int:pk>/activation/",
            activation_views.issue,
            name="people_activation_issue",
        ),
        path("people/staff/", staff_views.StaffIndexView.as_view(), name="people_staff_list"),
        path(
            "people/staff/results/",
            staff_views.StaffIndexView.as_view(results_only=True),
            name="people_staff_list_results",
        ),
        path("people/staff/<int:pk>/", staff_views.staff_detail, name="people_staff_detail"),
        path(
            "people/staff/<int:pk>/reset-authenticator/",
            staff_views.staff_reset_two_factor,
            name="people_staff_reset_two_factor",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_person_menu_item():
    return AdminMenuItem(
        _("Supervised persons"),
        reverse("people_person_list"),
        name="supervised-persons",
        icon_name="group",
        order=200,
        # Lecturers and editors hold no person records: the list would only ever be empty.
        permission="people.view_person",
    )


@hooks.register("register_admin_menu_item")
def register_roster_menu_item():
    return AdminMenuItem(
        _("Import roster"),
        reverse("people_roster_import"),
        name="import-roster",
        icon_name="upload",
        order=210,
        permission="people.import_roster",
    )


@hooks.register("register_admin_menu_item")
def register_staff_menu_item():
    return AdminMenuItem(
        _("Staff accounts"),
        reverse("people_staff_list"),
        name="staff-accounts",
        icon_name="user",
        order=215,
        permission="people.reset_two_factor",
    )
