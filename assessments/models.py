from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assessments.schema import InstrumentDef


class Instrument(models.Model):
    """A questionnaire, whatever its version; ``title`` is {"zh-hans": ..., "en": ...}."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    title = models.JSONField(_("title"), default=dict)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")

    def __str__(self) -> str:
        return self.localized_title()

    def localized_title(self, language: str | None = None) -> str:
        language = language or get_language() or "zh-hans"
        key = "en" if language.startswith("en") else "zh-hans"
        return self.title.get(key) or self.title.get("zh-hans") or self.slug


class InstrumentVersionQuerySet(models.QuerySet):
    def published(self) -> InstrumentVersionQuerySet:
        return self.filter(published=True)

    def for_slug(self, slug: str) -> InstrumentVersionQuerySet:
        return self.filter(instrument__slug=slug)


class InstrumentVersion(models.Model):
    """One version of an instrument's definition (the validated file, canonical form).

    A published version is immutable: results record the version that scored them, so a
    change to items, scoring or bands needs a new version number (see
    ``services.do_load_instrument``).
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="versions", verbose_name=_("instrument")
    )
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    checksum = models.CharField(_("checksum"), max_length=64)
    published = models.BooleanField(_("published"), default=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    objects = InstrumentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["instrument", "-version"]
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "version"], name="assessments_unique_instrument_version"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="assessments_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.slug} v{self.version}"

    def as_definition(self) -> InstrumentDef:
        return InstrumentDef.model_validate(self.definition)
