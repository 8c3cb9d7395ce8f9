from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.appendonly import AppendOnlyError, AppendOnlyModelMixin, AppendOnlyQuerySetMixin

__all__ = ["AppendOnlyError", "AccessEvent", "AccessLogHead", "Action"]


class Action(models.TextChoices):
    VIEW = "view", _("View")
    EXPORT = "export", _("Export")
    CHANGE = "change", _("Change")
    LOGIN = "login", _("Sign-in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Sign-out")
    DENIED = "denied", _("Denied")


class AccessEventQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    pass


class AccessEvent(AppendOnlyModelMixin, models.Model):
    """One read, change, export, sign-in or denial. Append-only and HMAC-chained: each row's
    ``hash`` covers its fields and the previous row's hash (see ``audit.services``).

    Users are stored by id and username *snapshot*, not by foreign key, so that deleting or
    renaming an account never alters the log.
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user_id = models.BigIntegerField(_("user id"), null=True, blank=True, db_index=True)
    username = models.CharField(_("user"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    person_id = models.BigIntegerField(_("person concerned"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    success = models.BooleanField(_("success"), default=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["person_id", "at"]),
            models.Index(fields=["action", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_type}"


class AccessLogHead(models.Model):
    """A single row holding the chain's tip; writers lock it so the chain stays linear."""

    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} events"
