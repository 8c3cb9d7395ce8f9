from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from audit import views
from lib.admin_menu import AdminMenuItem


@hooks.register("register_admin_urls")
def register_audit_urls():
    return [
        path("access-log/", views.AccessLogView.as_view(), name="audit_access_log"),
        path(
            "access-log/results/",
            views.AccessLogView.as_view(results_only=True),
            name="audit_access_log_results",
        ),
        path("access-log/export/", views.access_log_export, name="audit_access_log_export"),
    ]


@hooks.register("register_admin_menu_item")
def register_access_log_menu_item():
    return AdminMenuItem(
        _("Access log"),
        reverse("audit_access_log"),
        name="access-log",
        icon_name="history",
        order=900,
        permission="audit.view_accessevent",
    )
