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


def stored_result(person, answers: list[int], at, slug: str = "phq9") -> Result:
    """A scored result stored as ``do_submit`` would, but at the given time ``at`` (results
    are append-only, so the time cannot be changed afterwards)."""
    from assessments.models import AssignmentStatus, InstrumentVersion, Response
    from assessments.scoring import ENGINE_VERSION, score

    load(slug)
    version = InstrumentVersion.objects.published().for_slug(slug).order_by("-version").first()
    scored = score(version.as_definition(), answers).as_dict()
    assignment = Assignment.objects.create(
        person=person,
        instrument_version=version,
        reason="ad_hoc",
        status=AssignmentStatus.SUBMITTED,
        assigned_at=at,
    )
    response = Response.objects.create(
        assignment=assignment, answers=answers, started_at=at, submitted_at=at
    )
    return Result.objects.create(
        response=response,
        person=person,
        instrument_version=version,
        engine_version=ENGINE_VERSION,
        scales=scored["scales"],
        critical_items=scored["critical_items"],
        critical=bool(scored["critical_items"]),
        created_at=at,
    )
