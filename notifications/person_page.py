"""What notifications shows on the staff person page (``people.person_page``): the messages
the site sent the person (titles, when, whether read, text messages and e-mails with their
delivery status), never the person's own inbox view. Whoever sees the person sees these:
they are reminders and notices staff or the system sent."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import Delivery, DeliveryStatus, Notification
from people.person_page import (
    TimelineEntry,
    Tone,
    Visit,
    register_section,
    register_timeline_source,
)

RECENT_MESSAGES = 8
DELIVERY_TONE = {DeliveryStatus.FAILED: Tone.BAD, DeliveryStatus.SKIPPED: Tone.WARN}


def messages_section(visit: Visit) -> dict | None:
    person = visit.person
    return {
        "messages": list(
            Notification.objects.filter(recipient_id=person.user_id)
            .defer("body", "body_source")
            .order_by("-created_at", "-pk")[:RECENT_MESSAGES]
        ),
        "deliveries": list(
            Delivery.objects.filter(recipient_id=person.user_id)
            .defer("body")
            .order_by("-created_at", "-pk")[:RECENT_MESSAGES]
        ),
    }


def message_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    person = visit.person
    entries = [
        TimelineEntry(
            message.created_at,
            "messages",
            _("Message sent: %(title)s") % {"title": message.display_title},
            message.get_kind_display(),
        )
        for message in Notification.objects.filter(recipient_id=person.user_id)
        .defer("body", "body_source")
        .order_by("-created_at", "-pk")[:limit]
    ]
    entries += [
        TimelineEntry(
            delivery.created_at,
            "messages",
            _("%(channel)s: %(status)s")
            % {"channel": delivery.get_channel_display(), "status": delivery.get_status_display()},
            delivery.subject,
            "",
            DELIVERY_TONE.get(delivery.status, Tone.NEUTRAL),
        )
        for delivery in Delivery.objects.filter(recipient_id=person.user_id)
        .defer("body")
        .order_by("-created_at", "-pk")[:limit]
    ]
    return entries


def register() -> None:
    register_section(
        "messages",
        60,
        gettext_lazy("Messages sent"),
        messages_section,
        "notifications/person_page/messages.html",
    )
    register_timeline_source("messages", 60, gettext_lazy("Messages"), message_events)
