"""What learners do with course content: enrollments, study sessions, progress, quiz attempts,
monthly quotas and the participation ledger."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lib.storage import private_storage
from people.models import Category, Office, Person


class EnrollmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnrollmentQuerySet:
        """Enrollments of the persons ``user`` may see (``Person.objects.visible_to``)."""
        return self.filter(person__in=Person.objects.visible_to(user))

    def for_person(self, person: Person) -> EnrollmentQuerySet:
        return self.filter(person=person)

    def published(self) -> EnrollmentQuerySet:
        return self.filter(course__live=True)


class Enrollment(models.Model):
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="enrollments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # Set when an auto-enrollment rule (not a person) made this enrollment.
    rule = models.ForeignKey(
        "learning.EnrollmentRule",
        verbose_name=_("enrollment rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrollments",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["person", "course"], name="enrollment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.course_id}"


class StudySession(models.Model):
    """One row of ``learning.sessions``: a run of one (lesson, tab)'s beats with gaps <= 30 s.

    Only the open row of a (person, lesson, tab) is ever updated; a longer gap closes it and
    a new row is inserted."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="study_sessions")
    lesson = models.ForeignKey(
        "courses.LessonPage", on_delete=models.CASCADE, related_name="study_sessions"
    )
    tab = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    # The session's own whole seconds, before overlap and cap (a cache for reports).
    span_seconds = models.PositiveIntegerField(default=0)
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("study session")
        verbose_name_plural = _("study sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "lesson", "tab"],
                condition=Q(is_open=True),
                name="study_session_one_open_per_tab",
            )
        ]
        indexes = [
            models.Index(fields=["person", "started_at"]),
            models.Index(fields=["person", "last_beat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.lesson_id}/{self.tab} {self.started_at:%Y-%m-%d %H:%M}"


class LessonProgress(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey("courses.LessonPage", on_delete=models.CASCADE, related_name="+")
    credited_seconds = models.PositiveIntegerField(_("credited seconds"), default=0)
    quiz_passed = models.BooleanField(_("quiz passed"), default=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(fields=["person", "lesson"], name="lesson_progress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.lesson_id}: {self.credited_seconds} s"


class QuizAttempt(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="quiz_attempts")
    lesson = models.ForeignKey("courses.LessonPage", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField(_("attempt"))
    answers = models.JSONField(_("answers"))
    score = models.PositiveIntegerField(_("score"))
    total = models.PositiveIntegerField(_("questions"))
    passed = models.BooleanField(_("passed"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "lesson", "number"], name="quiz_attempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.lesson_id} #{self.number}: {self.score}/{self.total}"


class StudyQuota(models.Model):
    """Monthly participation required of a supervision category (administrators edit it)."""

    category = models.CharField(
        _("supervision category"), max_length=10, choices=Category.choices, unique=True
    )
    hours = models.DecimalField(_("hours a month"), max_digits=5, decimal_places=1, default=8)

    class Meta:
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
    IN_PROGRESS = "in_progress", _("In progress")
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
            # A month's rows in person and key order, for ``learning.month_sql``.
            models.Index(
                fields=["period", "person", "requirement_key"], name="participation_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m} {self.requirement_key}: {self.minutes} min"


# --- Auto-enrollment rules (learning.enrollment) ----------------------------------------------


class DueFrom(models.TextChoices):
    ENROLLMENT = "enrollment", _("the day of enrollment")
    SUPERVISION_START = "supervision_start", _("the start of supervision")


class EnrollmentRule(models.Model):
    """Enroll every active person of ``category`` in ``course`` (administrators edit these).

    A rule applies to each person at most once (``EnrollmentRuleApplication``), so an officer
    who removes such an enrollment is not overruled by the next run."""

    category = models.CharField(_("supervision category"), max_length=10, choices=Category.choices)
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="enrollment_rules",
    )
    due_days = models.PositiveIntegerField(
        _("due within (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    due_from = models.CharField(
        _("counted from"), max_length=20, choices=DueFrom.choices, default=DueFrom.ENROLLMENT
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enrollment rule")
        verbose_name_plural = _("enrollment rules")
        ordering = ["category", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "course"], name="enrollment_rule_unique_category_course"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} → {self.course.title}"


class EnrollmentRuleApplication(models.Model):
    """Marks that ``rule`` has been applied to ``person`` (whether or not it enrolled them)."""

    rule = models.ForeignKey(EnrollmentRule, on_delete=models.CASCADE, related_name="applications")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    applied_at = models.DateTimeField()

    class Meta:
        verbose_name = _("enrollment rule application")
        verbose_name_plural = _("enrollment rule applications")
        constraints = [
            models.UniqueConstraint(fields=["rule", "person"], name="enrollment_rule_applied_once")
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} → {self.person_id}"


# --- Certificates (learning.certificates) ----------------------------------------------------


class CertificateQuerySet(models.QuerySet):
    def visible_to(self, user) -> CertificateQuerySet:
        """Certificates of the persons ``user`` may see (``Person.objects.visible_to``)."""
        return self.filter(person__in=Person.objects.visible_to(user))


class Certificate(models.Model):
    """Issued once when a person completes a course. The texts printed on it are copied at
    issue time, so renaming the course or moving the person never changes a certificate."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="certificates"
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    # 12 characters of Crockford base32 (60 random bits), stored without separators.
    code = models.CharField(_("verification code"), max_length=12, unique=True)
    person_name = models.CharField(_("name"), max_length=100)
    course_title = models.CharField(_("course title"), max_length=255)
    credit_hours = models.DecimalField(_("credit hours"), max_digits=5, decimal_places=1)
    office_name = models.CharField(_("issuing office"), max_length=100)
    completed_at = models.DateTimeField(_("completed at"))
    issued_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(fields=["person", "course"], name="certificate_once_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.course_title} {self.code}"


# --- Participation toward 100% (#7): month status, excused absences, follow-up, rollups ------


class MonthStatus(models.TextChoices):
    """A person's month, decided by ``learning.participation.month_status`` from the ledger."""

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
    import uuid

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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
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
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.requested_at:%Y-%m-%d %H:%M} {self.status}"
