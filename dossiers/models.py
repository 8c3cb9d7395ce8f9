"""The education-and-assistance file (教育帮扶档案): its versioned catalogue, the file of each
released person, every round's decision and the problems a reviewer found."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.schema import CatalogueDef
from lib.storage import private_storage
from people.models import Person
from people.roles import Role, roles_of

# --- Catalogue ------------------------------------------------------------------------------


class CatalogueQuerySet(models.QuerySet):
    def current(self) -> Catalogue | None:
        return self.order_by("-version").first()


class Catalogue(models.Model):
    """One version of the catalogue (``dossiers.schema.CatalogueDef`` as JSON). The highest
    version is in use; versions are never edited (``do_save_catalogue`` adds one), and each
    file records the version it was compiled against."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    definition = models.JSONField(_("sections and rounds"))
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

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("file catalogue")
        verbose_name_plural = _("file catalogues")
        constraints = [
            models.CheckConstraint(
                condition=Q(version__gte=1), name="dossiers_catalogue_version_positive"
            )
        ]

    def __str__(self) -> str:
        return f"catalogue v{self.version}"

    @property
    def parsed(self) -> CatalogueDef:
        return CatalogueDef.model_validate(self.definition)


# A released person's file should be archived within this many days.
OVERDUE_DAYS = 30

# --- The file -------------------------------------------------------------------------------


class DossierState(models.TextChoices):
    COMPILING = "compiling", _("Compiling")
    IN_ROUND = "in_round", _("In review")
    RETURNED = "returned", _("Returned")
    ARCHIVED = "archived", _("Archived")


class DossierQuerySet(models.QuerySet):
    def visible_to(self, user) -> DossierQuerySet:
        """Files ``user`` may see: officers and administrators, of the persons they see
        (``Person.objects.visible_to``); counselors, of their caseload. Learners, lecturers,
        editors and users without a role see none."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        if not roles_of(user) & {Role.OFFICER, Role.ADMINISTRATOR, Role.COUNSELOR}:
            return self.none()
        return self.filter(person__in=Person.objects.visible_to(user))

    def overdue(self, today) -> DossierQuerySet:
        """Not archived 30 days after the person's release."""
        return self.exclude(state=DossierState.ARCHIVED).filter(
            person__supervision_end__lt=today - dt.timedelta(days=OVERDUE_DAYS)
        )


def dossier_path(instance, filename: str) -> str:
    return f"dossiers/{filename}"


class Dossier(models.Model):
    """One person's file. ``round`` is the 1-based round under way (``IN_ROUND`` or
    ``RETURNED``). The two copies are private files whose SHA-256 is kept beside them; a
    copy is only ever recorded here once written in full (``services.do_compile_dossier``)."""

    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="dossier", verbose_name=_("person")
    )
    catalogue = models.ForeignKey(
        Catalogue, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("catalogue")
    )
    state = models.CharField(
        _("state"), max_length=12, choices=DossierState.choices, default=DossierState.COMPILING
    )
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    compilation = models.PositiveIntegerField(_("compilation"), default=0)
    verdicts = models.JSONField(_("completeness check"), default=list, blank=True)
    officer_file = models.FileField(
        _("officer's copy"),
        upload_to=dossier_path,
        storage=private_storage,
        blank=True,
        max_length=200,
    )
    officer_sha256 = models.CharField(_("SHA-256 of the officer's copy"), max_length=64, blank=True)
    counselor_file = models.FileField(
        _("counselor's copy"),
        upload_to=dossier_path,
        storage=private_storage,
        blank=True,
        max_length=200,
    )
    counselor_sha256 = models.CharField(
        _("SHA-256 of the counselor's copy"), max_length=64, blank=True
    )
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("generated by"),
    )
    generated_by_name = models.CharField(_("generated by"), max_length=150, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    retain_until = models.DateField(_("keep until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = DossierQuerySet.as_manager()

    class Meta:
        ordering = ["person__case_number"]
        verbose_name = _("education and assistance file")
        verbose_name_plural = _("education and assistance files")
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.person.case_number}"


class Decision(models.TextChoices):
    PASS = "pass", _("Passed")
    RETURN = "return", _("Returned")


class DossierReview(models.Model):
    """One round's decision: who, when, which round, pass or return (with its problems)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="reviews")
    round = models.PositiveSmallIntegerField(_("round"))
    round_key = models.CharField(_("round"), max_length=40)
    compilation = models.PositiveIntegerField(_("compilation reviewed"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("file review")
        verbose_name_plural = _("file reviews")
        constraints = [
            # The same person cannot pass two rounds; a round is passed once.
            models.UniqueConstraint(
                fields=["dossier", "reviewer"],
                condition=Q(decision="pass"),
                name="dossier_one_pass_per_reviewer",
            ),
            models.UniqueConstraint(
                fields=["dossier", "round"],
                condition=Q(decision="pass"),
                name="dossier_one_pass_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} round {self.round}: {self.decision}"


class DossierProblemQuerySet(models.QuerySet):
    def open(self) -> DossierProblemQuerySet:
        return self.filter(resolved_at__isnull=True)


class DossierProblem(models.Model):
    """A problem a reviewer found in one catalogue section; open until the officer fixes the
    record or notes why it cannot be fixed."""

    review = models.ForeignKey(DossierReview, on_delete=models.PROTECT, related_name="problems")
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="problems")
    section = models.CharField(_("section"), max_length=40)
    text = models.TextField(_("problem"), max_length=2000)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.TextField(_("what was done"), blank=True, max_length=2000)

    objects = DossierProblemQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("file problem")
        verbose_name_plural = _("file problems")

    def __str__(self) -> str:
        return f"{self.section}: {self.text[:40]}"
