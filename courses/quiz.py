"""Quiz marking: the lesson's quiz block as plain data, and checking a learner's answers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class QuestionKind(models.TextChoices):
    SINGLE = "single", gettext_lazy("Single choice")
    MULTIPLE = "multiple", gettext_lazy("Multiple choice")
    TRUE_FALSE = "true_false", gettext_lazy("True or false")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    options: tuple[str, ...]
    correct: frozenset[int]
    explanation: str


@dataclass(frozen=True)
class Quiz:
    pass_mark: int  # percent of questions answered correctly
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Marked:
    answers: dict[str, list[int]]
    score: int
    total: int
    passed: bool


class InvalidAnswers(ValueError):
    """The answers name a question or option the quiz does not have, or miss a question."""


def quiz_of(lesson) -> Quiz | None:
    for block in lesson.body:
        if block.block_type != "quiz":
            continue
        questions = []
        for item in block.value["questions"].bound_blocks:
            value = item.value
            if value["kind"] == QuestionKind.TRUE_FALSE:
                options = (_("True"), _("False"))
                correct = frozenset({0 if value["answer_true"] else 1})
            else:
                options = tuple(option["text"] for option in value["options"])
                correct = frozenset(i for i, o in enumerate(value["options"]) if o["correct"])
            questions.append(
                Question(
                    id=str(item.id),
                    kind=value["kind"],
                    text=value["text"],
                    options=options,
                    correct=correct,
                    explanation=value["explanation"] or "",
                )
            )
        return Quiz(pass_mark=block.value["pass_mark"], questions=tuple(questions))
    return None


def check_answers(quiz: Quiz, answers: dict[str, list[str | int]]) -> Marked:
    """Validate and mark ``answers`` ({question id: [option index, ...]}).

    Every question must be answered, with existing options; single-choice and true-or-false
    questions take exactly one option. Raises InvalidAnswers otherwise.
    """
    known = {q.id for q in quiz.questions}
    unknown = set(answers) - known
    if unknown:
        raise InvalidAnswers(_("Some answers are for questions this quiz does not have."))
    clean: dict[str, list[int]] = {}
    score = 0
    for question in quiz.questions:
        raw = answers.get(question.id) or []
        try:
            chosen = sorted({int(value) for value in raw})
        except (TypeError, ValueError) as error:
            raise InvalidAnswers(_("An answer is not one of the options.")) from error
        if not chosen:
            raise InvalidAnswers(_("Please answer every question."))
        if any(not 0 <= index < len(question.options) for index in chosen):
            raise InvalidAnswers(_("An answer is not one of the options."))
        if question.kind != QuestionKind.MULTIPLE and len(chosen) != 1:
            raise InvalidAnswers(_("Choose exactly one answer for each single-choice question."))
        clean[question.id] = chosen
        score += frozenset(chosen) == question.correct
    total = len(quiz.questions)
    passed = total > 0 and score * 100 >= quiz.pass_mark * total
    return Marked(answers=clean, score=score, total=total, passed=passed)
