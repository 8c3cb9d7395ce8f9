from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from dossiers import views
from lib.admin_menu import AdminMenuItem


@hooks.register("register_admin_urls")
def register_dossier_urls():
    return [
        path("files/", views.dossier_list, name="dossiers_list"),
        path("files/catalogue/", views.catalogue_edit, name="dossiers_catalogue"),
        path(
            "files/catalogue/sections/add/",
            views.catalogue_section,
            name="dossiers_catalogue_section_add",
        ),
        path(
            "files/catalogue/sections/<slug:key>/edit/",
            views.catalogue_section,
            name="dossiers_catalogue_section",
        ),
        path(
            "files/catalogue/rounds/add/",
            views.catalogue_round,
            name="dossiers_catalogue_round_add",
        ),
        path(
            "files/catalogue/rounds/<slug:key>/edit/",
            views.catalogue_round,
            name="dossiers_catalogue_round",
        ),
        path(
            "files/catalogue/versions/<int:version>/restore/",
            views.catalogue_restore,
            name="dossiers_catalogue_restore",
        ),
        path(
            "files/compile/<int:person_pk>/",
            views.dossier_compile,
            name="dossiers_compile",
        ),
        path("files/<int:pk>/", views.dossier_detail, name="dossiers_detail"),
        path("files/<int:pk>/<slug:copy>.pdf", views.dossier_download, name="dossiers_download"),
        path(
            "files/<int:pk>/archive.zip",
            views.dossier_archive_export,
            name="dossiers_archive_export",
        ),
        path(
            "files/<int:pk>/history.csv",
            views.dossier_history_export,
            name="dossiers_history_export",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_files_menu_item():
    return AdminMenuItem(
        _("Education and assistance files"),
        reverse("dossiers_list"),
        name="education-files",
        icon_name="folder-open-inverse",
        order=650,
        shown_to=views.can_view_files,
    )


@hooks.register("register_admin_menu_item")
def register_catalogue_menu_item():
    return AdminMenuItem(
        _("File catalogue"),
        reverse("dossiers_catalogue"),
        name="file-catalogue",
        icon_name="list-ul",
        order=660,
        shown_to=views.can_edit_catalogue,
    )
