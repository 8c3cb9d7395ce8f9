"""Notifications (notifications/urls.py, notifications/wagtail_hooks.py): everyone reads and
marks only their own; another user's notification answers 404."""

from __future__ import annotations

from tests.security.matrix import FORBIDDEN, LOGIN, METHOD, NOTFOUND, OK, REDIRECT, Rule, roles


def learners_notification(org) -> dict[str, str]:
    """A notification of ``learner`` (reused), linking to a page on the site."""
    from notifications.models import Notification
    from notifications.services import notify

    notification = Notification.objects.filter(recipient=org.learner).first() or notify(
        org.learner, kind="general", title="matrix", url="/assessments/"
    )
    return {"pk": str(notification.pk)}


RULES = [
    Rule(name="notifications_inbox", get=roles(anonymous=LOGIN, signed_in=OK)),
    Rule(
        name="notifications_open",
        params=learners_notification,
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=REDIRECT),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=REDIRECT),
        note="only the recipient; anyone else's id is 404; a GET shows it in the inbox",
    ),
    Rule(
        name="notifications_read_all",
        get=roles(anonymous=LOGIN, signed_in=METHOD),
        post=roles(anonymous=LOGIN, signed_in=REDIRECT),
        note="marks the caller's own notifications only",
    ),
    Rule(
        name="notifications_admin_inbox",
        get=roles(non_staff=LOGIN, staff=OK),
        post=roles(non_staff=LOGIN, staff=OK),
        note="empty POST (no action) re-shows the caller's own list",
    ),
    Rule(
        name="notifications_delivery_log",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="text messages and emails sent: administrators only, addresses masked",
    ),
    Rule(
        name="notifications_delivery_log_results",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="the log's results alone (Wagtail's filters and search refresh them)",
    ),
]
