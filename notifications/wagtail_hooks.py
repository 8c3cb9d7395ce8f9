from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from lib.admin_menu import AdminMenuItem
from notifications import admin_views
from notifications.services import unread_count


@hooks.register("register_admin_urls")
def register_notification_urls():
    return [
        path("notifications/", admin_views.admin_inbox, name="notifications_admin_inbox"),
        path(
            "notifications/deliveries/",
            admin_views.DeliveryLogView.as_view(),
            name="notifications_delivery_log",
        ),
        path(
            "notifications/deliveries/results/",
            admin_views.DeliveryLogView.as_view(results_only=True),
            name="notifications_delivery_log_results",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_notifications_menu_item():
    return AdminMenuItem(
        _("Notifications"),
        reverse("notifications_admin_inbox"),
        name="notifications",
        icon_name="mail",
        order=150,
        count=unread_count,
        label_with_count=_("Notifications (%(count)s unread)"),
    )


@hooks.register("register_admin_menu_item")
def register_delivery_log_menu_item():
    return AdminMenuItem(
        _("Text messages and emails"),
        reverse("notifications_delivery_log"),
        name="delivery-log",
        icon_name="mail",
        order=900,
        shown_to=admin_views.can_read_delivery_log,
    )
