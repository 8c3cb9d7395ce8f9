"""The inbox on the front end (phone first), for every signed-in user."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.models import Notification
from notifications.services import (
    access_notification_for_user,
    do_mark_all_read,
    do_mark_read,
)

INBOX_LIMIT = 100


def inbox_items(user) -> list[Notification]:
    """The newest notifications of ``user`` (one query)."""
    return list(Notification.objects.for_user(user)[:INBOX_LIMIT])


@login_required
@require_GET
def inbox(request):
    items = inbox_items(request.user)
    return render(
        request,
        "notifications/inbox.html",
        {"notifications": items, "has_unread": any(n.read_at is None for n in items)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_notification(request, pk: int):
    """POST: mark one notification read, then go to its link (when it is a path on this site).
    GET (a bookmarked or pasted link): show it in the inbox, changing nothing."""
    if request.method == "GET":
        notification = access_notification_for_user(request.user, pk)
        return redirect(f"{reverse('notifications_inbox')}#n-{notification.pk}")
    notification = do_mark_read(request.user, pk)
    return redirect(notification.safe_url or "notifications_inbox")


@login_required
@require_POST
def read_all(request):
    if do_mark_all_read(request.user):
        messages.success(request, _("All messages are marked as read."))
    return redirect("notifications_inbox")
