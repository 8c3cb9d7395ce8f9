from __future__ import annotations

from django.db import models
from django.utils.http import url_has_allowed_host_and_scheme
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

    @property
    def safe_url(self) -> str:
        """``url`` if it is a path on this site, else ``""`` (never rendered as a link)."""
        return self.url if is_safe_relative_url(self.url) else ""
