"""The one shape of every versioned rule set (plan rules, attendance and roll-call policies,
the file catalogue): a numbered version, never edited — a change is a new version — with who
made it, when and why. Each model adds its JSON field, its Meta and, where a migration stored
a note, the note's translation (``stored_notes``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VersionedQuerySet(models.QuerySet):
    def current(self):
        """The version in use: the highest (of the active ones, for models with ``active``)."""
        rows = self.filter(active=True) if _has_active(self.model) else self
        return rows.order_by("-version").first()


def _has_active(model) -> bool:
    return any(field.name == "active" for field in model._meta.get_fields())


class VersionedRules(models.Model):
    version = models.PositiveIntegerField(_("version"), unique=True)
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    # Notes a migration stored (in English, or in two languages): shown in the reader's
    # language; the stored text stays as it was written.
    stored_notes: dict = {}

    objects = VersionedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-version"]

    @property
    def note_display(self) -> str:
        return str(self.stored_notes.get(self.note, self.note))
