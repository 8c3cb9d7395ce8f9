"""Participation toward 100%: the one ledger, quotas, month results, excused absences,
follow-up, rollups and report files.

The tables keep the names they had in ``learning`` (``learning_participationrecord``, ...): the
models moved here from ``learning`` (migration ``0001_move_from_learning``), and renaming the
tables would cost a rewrite of raw SQL and of the PostgreSQL beat function for nothing.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lib.storage import private_storage
from people.models import Category, Office, Person


class StudyQuota(models.Model):
    """Monthly participation required of a supervision category (administrators edit it)."""

    category = models.CharField(
        _("supervision category"), max_length=10, choices=Category.choices, unique=True
    )
    hours = models.DecimalField(_("hours a month"), max_digits=5, decimal_places=1, default=8)

    class Meta:
        db_table = "learning_studyquota"
        verbose_name = _("monthly study quota")
        verbose_name_plural = _("monthly study quotas")
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.hours}"


class ParticipationSource(models.TextChoices):
    LESSON = "lesson", _("Lesson")
    LECTURE = "lecture", _("Lecture")
    MAKEUP = "makeup", _("Makeup")
    EXCUSED = "excused", _("Excused")
    COURSE = "course", _("Course completed")


class ParticipationStatus(models.TextChoices):
    # Not the questionnaire's "In progress" (填写中, "being filled in"): studying is under way.
    IN_PROGRESS = "in_progress", pgettext_lazy("participation", "In progress")
    COMPLETED = "completed", _("Completed")
    EXCUSED = "excused", _("Excused")


class ParticipationRecord(models.Model):
    """The one ledger of participation, per person, month and requirement, from every source.

    ``requirement_key`` names what was done without a foreign key (``lesson:12``,
    ``lecture:7``), so lectures and makeups can share the ledger."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="participation")
    period = models.DateField(_("month"))  # always the first day of the month
    source = models.CharField(_("source"), max_length=10, choices=ParticipationSource.choices)
    requirement_key = models.CharField(_("requirement"), max_length=64)
    requirement = models.CharField(_("requirement title"), max_length=255, blank=True)
    minutes = models.PositiveIntegerField(_("minutes"), default=0)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ParticipationStatus.choices,
        default=ParticipationStatus.IN_PROGRESS,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "learning_participationrecord"
        verbose_name = _("participation record")
        verbose_name_plural = _("participation records")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "source", "requirement_key", "period"],
                name="participation_unique",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="participation_period_month"),
        ]
        indexes = [
            models.Index(fields=["person", "period"]),
            # A month's rows in person and key order, for ``participation.month_sql``.
            models.Index(
                fields=["period", "person", "requirement_key"], name="participation_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m} {self.requirement_key}: {self.minutes} min"


# --- Participation toward 100% (#7): month status, excused absences, follow-up, rollups ------


class MonthStatus(models.TextChoices):
    """A person's month, decided by ``participation.requirements.month_status`` from the ledger."""

    MET = "met", _("Met")
    EXCUSED = "excused", _("Excused")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")


class AbsenceStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def absence_evidence_path(instance, filename: str) -> str:
    # The stored name never carries the uploader's file name (it may hold personal data).
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"absence-evidence/{instance.period:%Y-%m}/{uuid.uuid4().hex}.{suffix[:5]}"


class AbsenceRequest(models.Model):
    """A request to excuse one requirement of one month (a lecture, a course due date or the
    month's study quota), filed by the person or their officer and decided by the officer.
    An approved request writes an ``excused`` entry to the ledger."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="absences"
    )
    period = models.DateField(_("month"))  # first day of the month
    requirement_key = models.CharField(_("requirement"), max_length=64)
    requirement = models.CharField(_("requirement title"), max_length=255, blank=True)
    reason = models.TextField(_("reason"))
    evidence = models.FileField(
        _("evidence"),
        upload_to=absence_evidence_path,
        storage=private_storage,
        blank=True,
        max_length=200,
    )
    evidence_type = models.CharField(_("evidence type"), max_length=40, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))
    status = models.CharField(
        _("status"), max_length=10, choices=AbsenceStatus.choices, default=AbsenceStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        db_table = "learning_absencerequest"
        verbose_name = _("absence request")
        verbose_name_plural = _("absence requests")
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "requirement_key"],
                condition=Q(status__in=["pending", "approved"]),
                name="absence_one_open_per_requirement",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="absence_period_month"),
        ]
        indexes = [models.Index(fields=["status", "filed_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m} {self.requirement_key}: {self.status}"


class FollowUpStage(models.TextChoices):
    REMINDED = "reminded", _("Person reminded")
    OFFICER = "officer", _("With the case officer")
    ADMINISTRATOR = "admin", _("Escalated to the administrator")
    RESOLVED = "resolved", _("Resolved")


class FollowUpPolicy(models.Model):
    """How patient the follow-up is (administrators edit it; the newest row applies)."""

    at_risk_days_left = models.PositiveSmallIntegerField(
        _("remind when this many days are left in the month"), default=7
    )
    officer_after_days = models.PositiveSmallIntegerField(
        _("days after the first reminder before the case officer gets a task"), default=3
    )
    administrator_after_days = models.PositiveSmallIntegerField(
        _("days the case officer has before the administrator is told"), default=5
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "learning_followuppolicy"
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policy")

    def __str__(self) -> str:
        return f"{self.at_risk_days_left}/{self.officer_after_days}/{self.administrator_after_days}"


class ReminderKind(models.TextChoices):
    LEARNER_AT_RISK = "learner_at_risk", _("To the person: not yet done this month")
    LEARNER_MISSED = "learner_missed", _("To the person: missed")
    OFFICER_TASK = "officer_task", _("To the case officer: please follow up")
    ADMINISTRATOR = "administrator", _("To the administrator: follow-up overdue")


class ReminderTemplate(models.Model):
    """Editable reminder text per kind; placeholders such as ``{name}``, ``{requirement}``,
    ``{days_left}``, ``{hours_short}``, ``{month}`` are filled in when sent."""

    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "learning_remindertemplate"
        verbose_name = _("reminder text")
        verbose_name_plural = _("reminder texts")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class FollowUp(models.Model):
    """One unmet requirement of one person and month, followed until it is met, excused or
    closed: reminder → case officer's task → administrator."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    period = models.DateField(_("month"))
    requirement_key = models.CharField(_("requirement"), max_length=64)
    requirement = models.CharField(_("requirement title"), max_length=255, blank=True)
    stage = models.CharField(
        _("stage"), max_length=10, choices=FollowUpStage.choices, default=FollowUpStage.REMINDED
    )
    opened_at = models.DateTimeField(_("opened at"))
    last_reminded_on = models.DateField(_("last reminded on"), null=True, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("case officer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_up_tasks",
    )
    officer_task_at = models.DateTimeField(_("task given at"), null=True, blank=True)
    officer_due = models.DateField(_("officer to act by"), null=True, blank=True)
    officer_acted_at = models.DateTimeField(_("officer acted at"), null=True, blank=True)
    officer_note = models.TextField(_("what the officer did"), blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("how it ended"), max_length=200, blank=True)

    class Meta:
        db_table = "learning_followup"
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "requirement_key"], name="follow_up_unique"
            )
        ]
        indexes = [models.Index(fields=["stage", "officer_due"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m} {self.requirement_key}: {self.stage}"


class FollowUpStep(models.Model):
    """Append-only log of every step taken on a follow-up (who, when, what)."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=30)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        db_table = "learning_followupstep"
        verbose_name = _("follow-up step")
        verbose_name_plural = _("follow-up steps")
        ordering = ["follow_up", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.follow_up_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class PersonMonth(models.Model):
    """Rollup: one person's month as ``month_status`` decides it, kept current from the
    ledger so dashboards and reports read one small row per person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(_("month"))
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(_("supervision category"), max_length=10, choices=Category.choices)
    status = models.CharField(_("status"), max_length=10, choices=MonthStatus.choices)
    required = models.PositiveIntegerField(_("requirements"), default=0)
    met = models.PositiveIntegerField(_("met"), default=0)
    excused = models.PositiveIntegerField(_("excused"), default=0)
    missing = models.JSONField(_("what is missing"), default=list, blank=True)
    study_minutes = models.PositiveIntegerField(_("study minutes"), default=0)
    quota_minutes = models.PositiveIntegerField(_("quota minutes"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        db_table = "learning_personmonth"
        verbose_name = _("person-month")
        verbose_name_plural = _("person-months")
        constraints = [
            models.UniqueConstraint(fields=["person", "period"], name="person_month_unique")
        ]
        indexes = [
            models.Index(fields=["period", "office", "status"]),
            models.Index(fields=["office", "period"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m}: {self.status}"


class OfficeMonth(models.Model):
    """Rollup: counts of person-months by office, category and month."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(_("month"))
    category = models.CharField(_("supervision category"), max_length=10, choices=Category.choices)
    persons = models.PositiveIntegerField(_("persons"), default=0)
    met = models.PositiveIntegerField(_("met"), default=0)
    excused = models.PositiveIntegerField(_("excused"), default=0)
    at_risk = models.PositiveIntegerField(_("at risk"), default=0)
    missed = models.PositiveIntegerField(_("missed"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        db_table = "learning_officemonth"
        verbose_name = _("office-month")
        verbose_name_plural = _("office-months")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "period", "category"], name="office_month_unique"
            )
        ]
        indexes = [models.Index(fields=["period", "office"])]

    def __str__(self) -> str:
        return f"{self.office_id} {self.period:%Y-%m} {self.category}: {self.met}/{self.persons}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ReportFile(models.Model):
    """A generated report (PDF or Excel) prepared by a background task; downloadable by the
    user who asked for it while it exists."""

    kind = models.CharField(_("report"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_files"
    )
    requested_at = models.DateTimeField(_("requested at"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("to do"), default=0)
    file = models.FileField(
        _("file"), upload_to="reports/%Y/%m/", storage=private_storage, blank=True, max_length=200
    )
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "learning_reportfile"
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.requested_at:%Y-%m-%d %H:%M} {self.status}"
