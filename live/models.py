from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.appendonly import AppendOnlyModelMixin, AppendOnlyQuerySetMixin


class Provider(models.TextChoices):
    JAAS = "jaas", _("JaaS (8x8)")
    PROSODY = "prosody", _("Self-hosted Jitsi (prosody)")


class EventType(models.TextChoices):
    """Event names exactly as each provider sends them (JaaS upper case, prosody ``muc-*``)."""

    PARTICIPANT_JOINED = "PARTICIPANT_JOINED", _("Participant joined")
    PARTICIPANT_LEFT = "PARTICIPANT_LEFT", _("Participant left")
    ROOM_CREATED = "ROOM_CREATED", _("Room created")
    ROOM_DESTROYED = "ROOM_DESTROYED", _("Room destroyed")
    RECORDING_UPLOADED = "RECORDING_UPLOADED", _("Recording uploaded")
    OCCUPANT_JOINED = "muc-occupant-joined", _("Occupant joined")
    OCCUPANT_LEFT = "muc-occupant-left", _("Occupant left")
    MUC_ROOM_CREATED = "muc-room-created", _("Room created (prosody)")
    MUC_ROOM_DESTROYED = "muc-room-destroyed", _("Room destroyed (prosody)")


JAAS_EVENT_TYPES = frozenset(
    {
        EventType.PARTICIPANT_JOINED,
        EventType.PARTICIPANT_LEFT,
        EventType.ROOM_CREATED,
        EventType.ROOM_DESTROYED,
        EventType.RECORDING_UPLOADED,
    }
)
PROSODY_EVENT_TYPES = frozenset(
    {
        EventType.OCCUPANT_JOINED,
        EventType.OCCUPANT_LEFT,
        EventType.MUC_ROOM_CREATED,
        EventType.MUC_ROOM_DESTROYED,
    }
)

ROOM_NAME_MAX = 200
USER_ID_MAX = 200
DEDUPE_KEY_MAX = 220


class PresenceEventQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    def for_room(self, room_name: str) -> PresenceEventQuerySet:
        return self.filter(room_name=room_name)

    def for_user(self, user_id: str) -> PresenceEventQuerySet:
        return self.filter(user_id=user_id)


class PresenceEvent(AppendOnlyModelMixin, models.Model):
    """One event exactly as Jitsi's server (JaaS or prosody ``event_sync``) posted it.

    Append-only: the raw body is evidence for attendance, so rows are never updated or
    deleted by the application. ``dedupe_key`` is unique, so a replayed webhook is stored
    once. ``user_id`` is the opaque id from the Jitsi JWT's ``context.user.id`` (never a
    display name); ``room_name`` and ``user_id`` are not yet checked against lectures or
    users (that arrives with the Lecture model).
    """

    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    room_name = models.CharField(_("room"), max_length=ROOM_NAME_MAX, db_index=True)
    user_id = models.CharField(_("user id"), max_length=USER_ID_MAX, blank=True, db_index=True)
    occurred_at = models.DateTimeField(_("provider time"))
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    payload = models.JSONField(_("raw body"))
    dedupe_key = models.CharField(_("dedupe key"), max_length=DEDUPE_KEY_MAX, unique=True)

    objects = PresenceEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("presence event")
        verbose_name_plural = _("presence events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["room_name", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.room_name} {self.user_id}".rstrip()
