"""Staff read their notifications inside the Wagtail admin (``wagtail_hooks.py``);
administrators read the delivery log of text messages and emails."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.senders import mask_address
from notifications.services import do_mark_all_read, do_mark_read
from notifications.views import inbox_items
from people.models import Person
from people.roles import Role, roles_of


@require_http_methods(["GET", "POST"])
def admin_inbox(request):
    """GET lists the user's own notifications; POST ``action=open`` + ``pk`` marks one read
    and follows its link, ``action=read_all`` marks all read. Another user's id: 404."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "open":
            notification = do_mark_read(request.user, request.POST.get("pk"))
            return redirect(notification.safe_url or "notifications_admin_inbox")
        if action == "read_all":
            if do_mark_all_read(request.user):
                messages.success(request, _("All messages are marked as read."))
            return redirect("notifications_admin_inbox")
    items = inbox_items(request.user)
    return render(
        request,
        "notifications/admin/inbox.html",
        {"notifications": items, "has_unread": any(n.read_at is None for n in items)},
    )


# --- The delivery log (administrators) --------------------------------------------------------

DELIVERY_PAGE_SIZE = 50


def can_read_delivery_log(user) -> bool:
    return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))


def deliveries_visible_to(user):
    """Deliveries to persons the administrator may see, or to staff of their office subtree;
    a superuser sees all."""
    if not can_read_delivery_log(user):
        return Delivery.objects.none()
    if user.is_superuser:
        return Delivery.objects.all()
    scope = Q(recipient__person__in=Person.objects.visible_to(user))
    if user.office_id:
        scope |= Q(recipient__office__path__startswith=user.office.path)
    return Delivery.objects.filter(scope)


def delivery_log(request):
    """GET: every text message and email sent (or not) with its attempts, newest first;
    ``status`` and ``channel`` filter. Addresses are masked. Administrators only (a refusal
    is logged); each view is in the access log."""
    if not can_read_delivery_log(request.user):
        raise deny(request, "delivery log: administrators only")
    rows = (
        deliveries_visible_to(request.user)
        .select_related("recipient")
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if channel in (Channel.SMS, Channel.EMAIL):
        rows = rows.filter(channel=channel)
    else:
        channel = ""
    page = Paginator(rows, DELIVERY_PAGE_SIZE).get_page(request.GET.get("p"))
    for delivery in page:
        delivery.masked_address = mask_address(delivery.channel, delivery.address)
    record_access(
        request,
        action=Action.VIEW,
        object_type="notifications.delivery",
        detail=f"delivery log page {page.number}, {len(page.object_list)} rows",
    )
    return render(
        request,
        "notifications/admin/delivery_log.html",
        {
            "page_obj": page,
            "status": status,
            "channel": channel,
            "statuses": DeliveryStatus.choices,
            "channels": [(Channel.SMS, Channel.SMS.label), (Channel.EMAIL, Channel.EMAIL.label)],
            "filters": urlencode({"status": status, "channel": channel}),
        },
    )
