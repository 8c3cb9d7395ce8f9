"""What learners do with course content: enrollments, study sessions, progress, quiz attempts,
monthly quotas and the participation ledger."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from people.models import Category, Person


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
        # the staff list's default order, newest first (learning.enrollment_views)
        indexes = [models.Index(fields=["created_at", "id"], name="enrollment_created")]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.course_id}"


class StudySession(models.Model):
    """One row of ``participation.crediting``: a run of one (lesson, tab)'s beats with gaps <= 30 s.

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
