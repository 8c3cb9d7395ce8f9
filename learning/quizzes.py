"""A learner's quiz answers: marked (``courses.quiz``), stored as numbered attempts, and a
passed quiz completing the lesson when its time is credited (``learning.heartbeat.store``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from courses.models import LessonPage
from courses.quiz import InvalidAnswers, Marked, Question, Quiz, check_answers
from learning.heartbeat.store import complete_if_due, record_participation
from learning.models import LessonProgress, QuizAttempt
from people.models import Person

__all__ = [
    "InvalidAnswers",
    "QuestionRow",
    "QuizAlreadySubmitted",
    "do_submit_quiz",
    "missing_answers_message",
    "next_attempt_number",
    "question_rows",
    "unanswered",
]


class QuizAlreadySubmitted(Exception):
    """This attempt was already stored (a double submission or a racing second tab)."""


@dataclass(frozen=True)
class OptionRow:
    index: int
    text: str
    chosen: bool


@dataclass(frozen=True)
class QuestionRow:
    """One question of the quiz form as shown: its number, options with the learner's choices
    still ticked (after a refused submission) and whether it still needs an answer."""

    number: int
    question: Question
    options: tuple[OptionRow, ...]
    missing: bool


def _chosen(raw: list[str] | None) -> set[int]:
    chosen = set()
    for value in raw or []:
        try:
            chosen.add(int(value))
        except (TypeError, ValueError):
            continue
    return chosen


def unanswered(quiz: Quiz, answers: dict[str, list[str]]) -> list[int]:
    """The numbers (1-based, as the form shows them) of the questions left without an answer."""
    return [
        number
        for number, question in enumerate(quiz.questions, start=1)
        if not _chosen(answers.get(question.id))
    ]


def question_rows(
    quiz: Quiz, answers: dict[str, list[str]] | None = None, missing: list[int] = ()
) -> list[QuestionRow]:
    """The form's questions, with ``answers`` (raw form values) ticked again."""
    answers = answers or {}
    return [
        QuestionRow(
            number=number,
            question=question,
            options=tuple(
                OptionRow(index, text, index in _chosen(answers.get(question.id)))
                for index, text in enumerate(question.options)
            ),
            missing=number in missing,
        )
        for number, question in enumerate(quiz.questions, start=1)
    ]


def missing_answers_message(numbers: list[int]) -> str:
    """ "Question 2 has no answer yet…", naming every question left."""
    listed = pgettext("list separator", ", ").join(str(n) for n in numbers)
    return ngettext(
        "Question %(numbers)s has no answer yet. Your other answers are kept: choose an "
        "answer for it and submit again.",
        "Questions %(numbers)s have no answer yet. Your other answers are kept: choose an "
        "answer for each and submit again.",
        len(numbers),
    ) % {"numbers": listed}


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
