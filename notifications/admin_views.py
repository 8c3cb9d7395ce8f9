"""Staff read their notifications inside the Wagtail admin (``wagtail_hooks.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from notifications.services import do_mark_all_read, do_mark_read
from notifications.views import inbox_items


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
