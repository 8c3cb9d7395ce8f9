"""Property tests for the pure completeness rules (``dossiers.rules``)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dossiers.rules import (
    AbsenceRecord,
    LectureRecord,
    MonthRecord,
    PlanRecord,
    PlanReviewRecord,
    QuestionnaireRecord,
    Snapshot,
    evaluate,
    months_under_supervision,
)

START = dt.date(2025, 3, 15)
END = dt.date(2026, 3, 14)
MONTHS = months_under_supervision(START, END)


def snapshot(**records) -> Snapshot:
    return Snapshot(
        person_id=1,
        case_number="C-1",
        full_name="张三",
        office="东司法所",
        supervision_start=START,
        supervision_end=END,
        read_on=END + dt.timedelta(days=1),
        **records,
    )


month_statuses = st.sampled_from(["met", "excused", "at_risk", "missed", None])


@given(st.lists(month_statuses, min_size=len(MONTHS), max_size=len(MONTHS)))
def test_monthly_study_misses_exactly_the_months_not_met_or_excused(statuses):
    months = tuple(
        MonthRecord(month, status) for month, status in zip(MONTHS, statuses, strict=True) if status
    )
    verdict = evaluate("monthly_study", {}, snapshot(months=months))
    bad = sum(1 for status in statuses if status not in {"met", "excused"})
    assert len(verdict.missing) == bad
    assert verdict.complete == (bad == 0)
    assert verdict.checked == len(MONTHS) == 13


def test_monthly_study_only_counts_months_up_to_the_day_of_reading():
    early = Snapshot(**{**snapshot().__dict__, "read_on": dt.date(2025, 4, 2)})
    verdict = evaluate("monthly_study", {}, early)
    assert verdict.checked == 2  # March and April 2025
    assert not verdict.complete


lecture_status = st.sampled_from(["present", "late", "left_early", "absent", "excused"])
lectures = st.lists(
    st.builds(
        LectureRecord,
        lecture_id=st.integers(1, 10_000),
        title=st.text(min_size=1, max_size=10),
        day=st.dates(START, END + dt.timedelta(days=30)),
        required=st.booleans(),
        status=lecture_status,
        makeup_done=st.booleans(),
    ),
    max_size=30,
)


@given(lectures)
def test_required_lectures_miss_exactly_the_past_required_ones_neither_attended_nor_made_up(rows):
    verdict = evaluate("required_lectures", {}, snapshot(lectures=tuple(rows)))
    expected = [
        r
        for r in rows
        if r.required
        and r.day <= END
        and r.status not in {"present", "late", "excused"}
        and not (r.status in {"absent", "left_early"} and r.makeup_done)
    ]
    assert len(verdict.missing) == len(expected)
    assert verdict.complete == (not expected)


@given(lectures)
def test_completing_every_makeup_never_adds_a_missing_lecture(rows):
    before = evaluate("required_lectures", {}, snapshot(lectures=tuple(rows)))
    done = tuple(LectureRecord(**{**r.__dict__, "makeup_done": True}) for r in rows)
    after = evaluate("required_lectures", {}, snapshot(lectures=done))
    assert len(after.missing) <= len(before.missing)
    assert not [m for m in after.missing if m not in before.missing]


@given(
    st.lists(st.one_of(st.none(), st.dates(START, END)), max_size=4),
    st.integers(1, 120),
)
def test_plan_approved_iff_the_first_approval_is_within_the_days(approvals, days):
    plans = tuple(PlanRecord(i + 1, "approved", day) for i, day in enumerate(approvals))
    verdict = evaluate("plan_approved", {"days": days}, snapshot(plans=plans))
    dates = [d for d in approvals if d]
    assert verdict.complete == bool(dates and min(dates) <= START + dt.timedelta(days=days))


@given(
    st.lists(
        st.tuples(st.dates(START, END), st.one_of(st.none(), st.integers(-5, 40))), max_size=8
    ),
    st.integers(0, 30),
)
def test_plan_reviews_late_or_unheld_are_missing(reviews, grace):
    rows = tuple(
        PlanReviewRecord(1, day, None if delay is None else day + dt.timedelta(days=delay))
        for day, delay in reviews
    )
    verdict = evaluate("plan_reviews_on_time", {"grace_days": grace}, snapshot(plan_reviews=rows))
    late = [
        day
        for day, d in reviews
        if (d is None and day + dt.timedelta(days=grace) <= END) or (d is not None and d > grace)
    ]
    assert len(verdict.missing) == len(late)


@given(
    st.lists(
        st.tuples(st.sampled_from(["approved", "pending", "rejected"]), st.booleans()), max_size=10
    )
)
def test_absence_evidence_misses_exactly_approved_absences_without_a_file(rows):
    absences = tuple(
        AbsenceRecord(i, dt.date(2025, 5, 1), "讲座", status, has)
        for i, (status, has) in enumerate(rows)
    )
    verdict = evaluate("absence_evidence", {}, snapshot(absences=absences))
    assert len(verdict.missing) == sum(1 for s, has in rows if s == "approved" and not has)


@given(st.sampled_from(["intake", "exit"]), st.booleans(), st.booleans())
def test_a_questionnaire_counts_only_once_submitted_and_reviewed(reason, submitted, reviewed):
    row = QuestionnaireRecord(
        1,
        reason,
        "PHQ-9",
        "submitted" if submitted else "open",
        submitted_on=START if submitted else None,
        reviewed_on=START if submitted and reviewed else None,
    )
    verdict = evaluate(
        "questionnaires_reviewed", {"reasons": [reason]}, snapshot(questionnaires=(row,))
    )
    assert verdict.complete == (submitted and reviewed)
    both = evaluate("questionnaires_reviewed", {}, snapshot(questionnaires=(row,)))
    assert not both.complete  # the default asks for intake and exit
