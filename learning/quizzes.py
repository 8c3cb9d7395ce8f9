"""A learner's quiz answers: marked (``courses.quiz``), stored as numbered attempts, and a
passed quiz completing the lesson when its time is credited (``learning.heartbeat.store``)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import LessonPage
from courses.quiz import InvalidAnswers, Marked, check_answers
from learning.heartbeat.store import complete_if_due, record_participation
from learning.models import LessonProgress, QuizAttempt
from people.models import Person

__all__ = ["InvalidAnswers", "QuizAlreadySubmitted", "do_submit_quiz", "next_attempt_number"]


class QuizAlreadySubmitted(Exception):
    """This attempt was already stored (a double submission or a racing second tab)."""


def next_attempt_number(person: Person, lesson: LessonPage) -> int:
    latest = QuizAttempt.objects.filter(person=person, lesson=lesson).aggregate(n=Max("number"))
    return (latest["n"] or 0) + 1


def do_submit_quiz(
    person: Person,
    lesson: LessonPage,
    answers: dict[str, list[str]],
    number: int | None = None,
    now: dt.datetime | None = None,
) -> QuizAttempt:
    """Mark ``answers`` and store them as attempt ``number`` (default: the next one).

    Raises InvalidAnswers for missing or unknown questions and options, and
    QuizAlreadySubmitted when attempt ``number`` exists already: of two racing submissions
    of the same form exactly one is stored."""
    quiz = lesson.quiz()
    if quiz is None:
        raise InvalidAnswers(_("This lesson has no quiz."))
    marked: Marked = check_answers(quiz, answers)
    now = now or timezone.now()
    with transaction.atomic():
        if number is None:
            number = next_attempt_number(person, lesson)
        try:
            with transaction.atomic():
                attempt = QuizAttempt.objects.create(
                    person=person,
                    lesson=lesson,
                    number=number,
                    answers=marked.answers,
                    score=marked.score,
                    total=marked.total,
                    passed=marked.passed,
                )
        except IntegrityError as error:
            raise QuizAlreadySubmitted from error
        if marked.passed:
            progress, _created = LessonProgress.objects.select_for_update().get_or_create(
                person=person, lesson=lesson
            )
            if not progress.quiz_passed:
                progress.quiz_passed = True
                progress.save(update_fields=["quiz_passed", "updated_at"])
                complete_if_due(progress, lesson.expected_seconds, now)
                record_participation(progress, now)
    return attempt
