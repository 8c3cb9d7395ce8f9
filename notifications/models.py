from __future__ import annotations

from django.db import models
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    ALERT = "alert", _("Alert")
    ASSIGNMENT = "assignment", _("Questionnaire")
    REMINDER = "reminder", _("Reminder")
    LECTURE = "lecture", _("Lecture")
    COURSE = "course", _("Course")
    PLAN = "plan", _("Plan")
    GENERAL = "general", _("Notice")


def is_safe_relative_url(url: str) -> bool:
    """A path on this site (``/…``): no scheme, no host, no ``//`` or backslash tricks, no
    control characters. Anything else is shown as text, never as a link."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return False
    if any(ord(char) < 32 or ord(char) == 127 for char in url) or "\\" in url:
        return False
    return url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=False)


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        """The user's own notifications; nobody else's, ever (staff included)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one user, shown in their inbox and pushed to their open sockets.

    ``dedupe_key`` is unique per recipient: ``notify()`` with a key already used for that user
    stores nothing, so callers make "once per thing per day" rules by choosing keys such as
    ``"lecture:42:reminder:2026-03-01"``.
    """

    recipient = models.ForeignKey(
        "people.User",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    # Set by ``notify(..., params=...)``: the untranslated source texts and their values, so
    # the inbox renders each message in the reader's language of the moment. ``title`` and
    # ``body`` keep the site-language rendering (SMS, e-mail, old rows).
    title_source = models.CharField(_("title (source text)"), max_length=200, blank=True)
    body_source = models.TextField(_("text (source text)"), blank=True)
    params = models.JSONField(_("values"), default=dict, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notifications_unique_dedupe_key"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def _in_active_language(self, source: str, stored: str) -> str:
        if not source:
            return stored
        try:
            return gettext(source) % self.params if self.params else gettext(source)
        except (KeyError, ValueError, TypeError):
            return stored

    @property
    def display_title(self) -> str:
        """The title in the active language (translated at display time when possible)."""
        return self._in_active_language(self.title_source, self.title)

    @property
    def display_body(self) -> str:
        return self._in_active_language(self.body_source, self.body)

    @property
    def safe_url(self) -> str:
        """``url`` if it is a path on this site, else ``""`` (never rendered as a link)."""
        return self.url if is_safe_relative_url(self.url) else ""


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (no address)")


class Delivery(models.Model):
    """The delivery log: one message on one channel (SMS, email) to one user, with every
    attempt's outcome. ``dedupe_key`` is unique per channel, so "not twice for the same thing
    on the same day" is a key such as ``"followup:17:2026-03-20"``."""

    recipient = models.ForeignKey(
        "people.User",
        on_delete=models.SET_NULL,
        null=True,
        related_name="deliveries",
        verbose_name=_("recipient"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("sent to"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "dedupe_key"], name="notifications_delivery_once"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient_id}: {self.status}"
