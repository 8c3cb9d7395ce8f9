from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from audit import views


@hooks.register("register_admin_urls")
def register_audit_urls():
    return [
        path("access-log/", views.access_log, name="audit_access_log"),
        path("access-log/export/", views.access_log_export, name="audit_access_log_export"),
    ]


class AccessLogMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("audit.view_accessevent")


@hooks.register("register_admin_menu_item")
def register_access_log_menu_item():
    return AccessLogMenuItem(
        _("Access log"), reverse("audit_access_log"), icon_name="history", order=900
    )
