"""Builders for questionnaire tests (and the permission matrix's sample result)."""

from __future__ import annotations

from assessments.models import Assignment, Result
from assessments.services import INSTRUMENTS_DIR, do_load_instrument, read_instrument_file
from assessments.taking import do_assign, do_save_answer, do_submit


def load(*slugs: str) -> None:
    for slug in slugs:
        do_load_instrument(read_instrument_file(INSTRUMENTS_DIR / f"{slug}.json"))


def assign(person, by=None, slug: str = "phq9", **kwargs) -> Assignment:
    load(slug)
    return do_assign(slug, person, by, **kwargs)


def answer_all(assignment: Assignment, answers: list[int]) -> None:
    for number, option in enumerate(answers, start=1):
        do_save_answer(assignment, number, option)


def submitted(person, answers: list[int], by=None, slug: str = "phq9") -> Result:
    assignment = assign(person, by, slug)
    answer_all(assignment, answers)
    return do_submit(assignment)


def matrix_result(org) -> dict[str, str]:
    """``params`` for the permission matrix: a submitted PHQ-9 of ``org.person`` (reused)."""
    result = Result.objects.filter(person=org.person).first()
    if result is None:
        result = submitted(org.person, [1] * 9, by=org.counselor)
    return {"pk": str(result.pk)}
