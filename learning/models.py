"""What learners do with course content: enrollments, study sessions, progress, quiz attempts,
monthly quotas and the participation ledger."""

from __future__ import annotations

from django.conf import settings
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
        indexes = [models.Index(fields=["person", "started_at"])]

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
        indexes = [models.Index(fields=["person", "period"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period:%Y-%m} {self.requirement_key}: {self.minutes} min"
