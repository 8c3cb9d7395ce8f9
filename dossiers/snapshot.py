"""One consistent read of everything a person's file says (``read_snapshot``).

The reads run in one transaction. SQLite (WAL, IMMEDIATE transactions) gives the whole
transaction one view of the database; PostgreSQL's default READ COMMITTED would give each
query its own, so the transaction is raised to REPEATABLE READ first. A record changed while
the file compiles is therefore either wholly in the file or wholly not.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from assessments.models import Assignment, AssignmentStatus
from assessments.report import item_answers, scale_profile
from dossiers.rules import (
    AbsenceRecord,
    LectureRecord,
    LessonRecord,
    MonthRecord,
    PlanRecord,
    PlanReviewRecord,
    QuestionnaireRecord,
    Snapshot,
)
from learning.models import LessonProgress
from live.models import Attendance, Makeup
from participation.models import AbsenceRequest, PersonMonth
from people.models import Person
from plans.models import Plan, PlanReview


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def _months(person: Person) -> tuple[MonthRecord, ...]:
    rows = PersonMonth.objects.filter(person=person).order_by("period")
    return tuple(
        MonthRecord(r["period"], r["status"], r["study_minutes"], r["quota_minutes"])
        for r in rows.values("period", "status", "study_minutes", "quota_minutes")
    )


def _lectures(person: Person) -> tuple[LectureRecord, ...]:
    made_up = set(
        Makeup.objects.filter(person=person, completed_at__isnull=False).values_list(
            "lecture_id", flat=True
        )
    )
    rows = (
        Attendance.objects.filter(person=person)
        .order_by("lecture__start", "lecture_id")
        .values(
            "lecture_id",
            "lecture__title",
            "lecture__start",
            "lecture__required",
            "status",
            "override_status",
        )
    )
    return tuple(
        LectureRecord(
            lecture_id=r["lecture_id"],
            title=r["lecture__title"],
            day=timezone.localdate(r["lecture__start"]),
            required=r["lecture__required"],
            status=r["override_status"] or r["status"],
            makeup_done=r["lecture_id"] in made_up,
        )
        for r in rows
    )


def _lessons(person: Person) -> tuple[LessonRecord, ...]:
    """Completed lessons by completion, then those still open by the last time studied."""
    rows = (
        LessonProgress.objects.filter(person=person)
        .order_by(F("completed_at").asc(nulls_last=True), "updated_at", "pk")
        .values("lesson__title", "credited_seconds", "quiz_passed", "completed_at")
    )
    return tuple(
        LessonRecord(
            title=r["lesson__title"],
            minutes=r["credited_seconds"] // 60,
            quiz_passed=r["quiz_passed"],
            completed_on=_local_date(r["completed_at"]),
        )
        for r in rows
    )


def _questionnaires(person: Person) -> tuple[QuestionnaireRecord, ...]:
    assignments = (
        Assignment.objects.filter(person=person)
        .exclude(status=AssignmentStatus.CANCELLED)
        .select_related(
            "instrument_version__instrument",
            "response__result__review",
            "response__result__instrument_version",
        )
        .order_by("assigned_at", "pk")
    )
    records = []
    for assignment in assignments:
        response = getattr(assignment, "response", None)
        result = getattr(response, "result", None) if response else None
        review = getattr(result, "review", None) if result else None
        # In words, as the counselor's result page names them (总分: 9（轻度）), not codes.
        scores = tuple(
            (row.label, f"{'—' if row.score is None else row.score}（{row.band}）")
            for row in (scale_profile(result) if result else ())
        )
        records.append(
            QuestionnaireRecord(
                assignment_id=assignment.pk,
                reason=assignment.reason,
                title=assignment.instrument_version.instrument.localized_title(),
                status=assignment.status,
                submitted_on=_local_date(response.submitted_at if response else None),
                reviewed_on=_local_date(review.signed_at if review else None),
                scores=scores,
                answers=_answers(response, result),
            )
        )
    return tuple(records)


def _answers(response, result) -> tuple[str, ...]:
    """Each answer as its question's number and the option chosen, in words (9 好几天), as the
    counselor's result page shows them; the stored values are option positions, which read
    as scores and are not. Without a result, the positions counted from 1."""
    if response is None or not response.submitted_at:
        return ()
    if result is not None:
        return tuple(f"{row.number} {row.option}" for row in item_answers(result))
    return tuple(
        f"{number} {'—' if a is None else a + 1}" for number, a in enumerate(response.answers, 1)
    )


def _plans(person: Person) -> tuple[tuple[PlanRecord, ...], tuple[PlanReviewRecord, ...]]:
    plans = tuple(
        PlanRecord(r["version"], r["status"], _local_date(r["approved_at"]))
        for r in Plan.objects.filter(person=person)
        .order_by("version")
        .values("version", "status", "approved_at")
    )
    reviews = tuple(
        PlanReviewRecord(r["plan__version"], r["scheduled_for"], _local_date(r["held_at"]))
        for r in PlanReview.objects.filter(plan__person=person)
        .order_by("scheduled_for", "pk")
        .values("plan__version", "scheduled_for", "held_at")
    )
    return plans, reviews


def _absences(person: Person) -> tuple[AbsenceRecord, ...]:
    rows = (
        AbsenceRequest.objects.filter(person=person)
        .order_by("period", "pk")
        .values(
            "pk",
            "period",
            "requirement",
            "requirement_key",
            "status",
            "evidence",
            "evidence_type",
            "filed_at",
            "decided_at",
        )
    )
    return tuple(
        AbsenceRecord(
            absence_id=r["pk"],
            period=r["period"],
            requirement=r["requirement"] or r["requirement_key"],
            status=r["status"],
            has_evidence=bool(r["evidence"]),
            evidence_type=r["evidence_type"],
            evidence_name=r["evidence"] or "",
            filed_on=_local_date(r["filed_at"]),
            decided_on=_local_date(r["decided_at"]),
        )
        for r in rows
    )


def read_snapshot(person: Person, *, today: dt.date | None = None) -> Snapshot:
    """The person's records, read in one transaction (see the module docstring)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # Only the first statement of a transaction may set its level; a caller already in a
        # transaction (a test) keeps its own.
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        fresh = Person.objects.select_related("office").get(pk=person.pk)
        plans, reviews = _plans(fresh)
        return Snapshot(
            person_id=fresh.pk,
            case_number=fresh.case_number,
            full_name=fresh.full_name,
            office=fresh.office.name,
            supervision_start=fresh.supervision_start,
            supervision_end=fresh.supervision_end,
            read_on=today or timezone.localdate(),
            months=_months(fresh),
            lectures=_lectures(fresh),
            lessons=_lessons(fresh),
            questionnaires=_questionnaires(fresh),
            plans=plans,
            plan_reviews=reviews,
            absences=_absences(fresh),
        )
