from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem

from notifications import admin_views
from notifications.services import unread_count


@hooks.register("register_admin_urls")
def register_notification_urls():
    return [
        path("notifications/", admin_views.admin_inbox, name="notifications_admin_inbox"),
        path(
            "notifications/deliveries/",
            admin_views.delivery_log,
            name="notifications_delivery_log",
        ),
    ]


class NotificationsMenuItem(MenuItem):
    """ "Notifications (3)": the label carries the user's unread count (one query per page)."""

    def render_component(self, request):
        count = unread_count(request.user)
        label = (
            _("Notifications (%(count)s unread)") % {"count": count} if count else str(self.label)
        )
        return LinkMenuItem(
            self.name,
            label,
            self.url,
            icon_name=self.icon_name,
            classname=self.classname,
            attrs=self.attrs,
        )


@hooks.register("register_admin_menu_item")
def register_notifications_menu_item():
    return NotificationsMenuItem(
        gettext_lazy("Notifications"),
        reverse("notifications_admin_inbox"),
        name="notifications",
        icon_name="mail",
        order=150,
    )


class DeliveryLogMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_read_delivery_log(request.user)


@hooks.register("register_admin_menu_item")
def register_delivery_log_menu_item():
    return DeliveryLogMenuItem(
        gettext_lazy("Text messages and emails"),
        reverse("notifications_delivery_log"),
        name="delivery-log",
        icon_name="mail",
        order=900,
    )
