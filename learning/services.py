"""Learning services: a learner's access to lessons and courses, the month's study summary
and courses' progress (the learner's home), and the subject-access export.

Naming follows the house contract: ``access_*`` fetches and checks permission. The heartbeat
is ``learning.heartbeat``; quiz answers are ``learning.quizzes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum, TextChoices
from django.http import Http404
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from courses.models import CoursePage, LessonPage
from learning.models import Enrollment, LessonProgress, QuizAttempt, StudySession
from lib.months import month_start
from participation.models import ParticipationRecord, StudyQuota
from participation.requirements import DEFAULT_QUOTA_HOURS
from people.models import Person

# --- Access ---------------------------------------------------------------------------------


def _own_enrollments(user):
    # A learner's scope is themselves (Person.objects.visible_to); filtering on the signed-in
    # user directly saves the role lookup on every lesson page and heartbeat.
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Enrollment.objects.none()
    return Enrollment.objects.published().filter(person__user=user)


def enrollment_for_lesson(user, lesson: LessonPage, with_progress: bool = False):
    """The user's enrollment in the lesson's published course, with its person and course;
    one query.

    With ``with_progress`` the row also carries the lesson's progress and latest quiz attempt
    as ``progress_*`` and ``attempt_*`` attributes (still one query)."""
    course_path = lesson.path[: -LessonPage.steplen]
    enrollments = (
        _own_enrollments(user).filter(course__path=course_path).select_related("person", "course")
    )
    if with_progress:
        progress = LessonProgress.objects.filter(person=OuterRef("person"), lesson=lesson)
        attempt = QuizAttempt.objects.filter(person=OuterRef("person"), lesson=lesson).order_by(
            "-number"
        )
        enrollments = enrollments.annotate(
            progress_credited=Subquery(progress.values("credited_seconds")[:1]),
            progress_completed_at=Subquery(progress.values("completed_at")[:1]),
            progress_quiz_passed=Subquery(progress.values("quiz_passed")[:1]),
            attempt_number=Subquery(attempt.values("number")[:1]),
            attempt_score=Subquery(attempt.values("score")[:1]),
            attempt_total=Subquery(attempt.values("total")[:1]),
            attempt_passed=Subquery(attempt.values("passed")[:1]),
        )
    return enrollments.first()


def access_lesson_for_learner(user, lesson_id) -> tuple[Person, LessonPage]:
    """The signed-in person and a live lesson of a published course they are enrolled in.

    Raises Http404 otherwise, so a lesson's existence is never revealed."""
    lesson = LessonPage.objects.live().defer_streamfields().filter(pk=lesson_id).first()
    if lesson is None or not lesson.live:
        raise Http404
    enrollment = enrollment_for_lesson(user, lesson)
    if enrollment is None:
        raise Http404
    return enrollment.person, lesson


def access_course_for_learner(user, course: CoursePage) -> Person:
    enrollment = _own_enrollments(user).filter(course=course).select_related("person").first()
    if enrollment is None:
        raise Http404
    return enrollment.person


# --- Monthly summary and the learner's home -------------------------------------------------


class LessonState(TextChoices):
    """Where a learner stands in one lesson (the course page marks each lesson)."""

    DONE = "done", pgettext_lazy("lesson", "Completed")
    IN_PROGRESS = "in_progress", pgettext_lazy("lesson", "In progress")
    NOT_STARTED = "not_started", pgettext_lazy("lesson", "Not started")


@dataclass
class LessonRow:
    lesson: LessonPage
    state: LessonState


@dataclass
class CourseProgress:
    course: CoursePage
    lessons: int = 0
    completed: int = 0
    credited_seconds: int = 0
    expected_seconds: int = 0
    next_lesson: LessonPage | None = None
    due_date: dt.date | None = None
    rows: list[LessonRow] = field(default_factory=list)

    @property
    def percent(self) -> int:
        if not self.expected_seconds:
            return 0
        if self.lessons and self.completed == self.lessons:
            return 100
        return min(99, self.credited_seconds * 100 // self.expected_seconds)

    @property
    def is_complete(self) -> bool:
        return self.lessons > 0 and self.completed == self.lessons


@dataclass
class MonthSummary:
    period: dt.date
    minutes: int
    quota_hours: Decimal
    courses: list[CourseProgress] = field(default_factory=list)

    @property
    def quota_minutes(self) -> int:
        return int(self.quota_hours * 60)

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))

    @property
    def percent(self) -> int:
        if not self.quota_minutes:
            return 100
        return min(100, self.minutes * 100 // self.quota_minutes)

    @property
    def next_lesson(self) -> LessonPage | None:
        return next((c.next_lesson for c in self.courses if c.next_lesson), None)


def quota_hours_for(person: Person) -> Decimal:
    quota = StudyQuota.objects.filter(category=person.category).values_list("hours", flat=True)
    return next(iter(quota), DEFAULT_QUOTA_HOURS)


def course_progress(person: Person) -> list[CourseProgress]:
    """Progress in each published enrolled course, in three queries whatever their number;
    each course's ``rows`` give its live lessons in order with the person's state in each."""
    enrollments = list(
        Enrollment.objects.for_person(person)
        .published()
        .select_related("course")
        .defer("course__latest_revision")
        .order_by("due_date", "course__path")
    )
    if not enrollments:
        return []
    by_path = {e.course.path: CourseProgress(e.course, due_date=e.due_date) for e in enrollments}
    depth = enrollments[0].course.depth + 1
    paths = Q()
    for path in by_path:
        paths |= Q(path__startswith=path)
    lessons = list(
        LessonPage.objects.live()
        .filter(paths, depth=depth)
        .defer_streamfields()
        .only("pk", "path", "depth", "title", "slug", "url_path", "expected_seconds")
        .order_by("path")
    )
    progress = {
        p.lesson_id: p
        for p in LessonProgress.objects.filter(person=person, lesson__in=[x.pk for x in lessons])
    }
    for lesson in lessons:
        course = by_path.get(lesson.path[: -LessonPage.steplen])
        if course is None:
            continue
        row = progress.get(lesson.pk)
        course.lessons += 1
        course.expected_seconds += lesson.expected_seconds
        if row is not None:
            course.credited_seconds += min(row.credited_seconds, lesson.expected_seconds)
        if row is not None and row.completed_at is not None:
            course.completed += 1
            state = LessonState.DONE
        else:
            if course.next_lesson is None:
                course.next_lesson = lesson
            started = row is not None and (row.credited_seconds or row.quiz_passed)
            state = LessonState.IN_PROGRESS if started else LessonState.NOT_STARTED
        course.rows.append(LessonRow(lesson, state))
    return list(by_path.values())


def month_summary(person: Person, today: dt.date | None = None) -> MonthSummary:
    """This month's participation minutes against the quota, and per-course progress."""
    period = month_start(today or timezone.localdate())
    minutes = (
        ParticipationRecord.objects.filter(person=person, period=period).aggregate(
            total=Sum("minutes")
        )["total"]
        or 0
    )
    return MonthSummary(
        period=period,
        minutes=minutes,
        quota_hours=quota_hours_for(person),
        courses=course_progress(person),
    )


def dashboard_cards(user, person: Person | None) -> MonthSummary | None:
    """What the learner's home page shows in its hours and courses cards (``study``)."""
    if person is None:
        return None
    return month_summary(person)


# --- Subject-access export (people.privacy.PERSON_DATA_COLLECTORS) ---------------------------


def collect_learning_data(person: Person) -> dict:
    """Enrollments, study sessions, lesson progress, quiz attempts and participation."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    return {
        "study_records": {
            "enrollments": [
                {"course": e.course.title, "due_date": e.due_date and e.due_date.isoformat()}
                for e in Enrollment.objects.for_person(person).select_related("course")
            ],
            "study_sessions": [
                {
                    "lesson_id": s.lesson_id,
                    "started_at": when(s.started_at),
                    "last_beat_at": when(s.last_beat_at),
                }
                for s in StudySession.objects.filter(person=person).order_by("started_at", "pk")
            ],
            "lesson_progress": [
                {
                    "lesson_id": p.lesson_id,
                    "credited_seconds": p.credited_seconds,
                    "quiz_passed": p.quiz_passed,
                    "completed_at": when(p.completed_at),
                }
                for p in LessonProgress.objects.filter(person=person).order_by("pk")
            ],
            "quiz_attempts": [
                {
                    "lesson_id": a.lesson_id,
                    "number": a.number,
                    "answers": a.answers,
                    "score": a.score,
                    "total": a.total,
                    "passed": a.passed,
                    "at": when(a.created_at),
                }
                for a in QuizAttempt.objects.filter(person=person).order_by("created_at", "pk")
            ],
            "participation": [
                {
                    "period": r.period.isoformat(),
                    "source": r.source,
                    "requirement": r.requirement_key,
                    "minutes": r.minutes,
                    "status": r.status,
                }
                for r in ParticipationRecord.objects.filter(person=person).order_by("period", "pk")
            ],
        }
    }
