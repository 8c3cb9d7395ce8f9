"""Completeness rules of the file's catalogue: pure functions over a ``Snapshot``.

Each catalogue section names a rule kind and its parameters; ``evaluate`` looks the kind up in
``RULES`` and returns a ``Verdict`` (complete, what is missing, why). Nothing here reads the
database: ``dossiers.snapshot.read_snapshot`` takes the person's records in one consistent
read, and the same snapshot decides every section and fills the PDF.

The rules, numbered as the catalogue's defaults ship them:

1. ``monthly_study``: every calendar month under supervision (from the start month to the
   month of ``as_of``, the earlier of the end date and the day of reading) has a study record
   (``participation.PersonMonth``) that is met or excused.
2. ``required_lectures``: every required lecture the person was in the audience of is
   attended (present or late), excused, or absent/left early with its makeup completed.
3. ``questionnaires_reviewed``: for each reason in ``reasons`` (intake, exit) a questionnaire
   of that reason was submitted and its result reviewed (a signed review).
4. ``plan_approved``: a plan version was approved within ``days`` days of the supervision
   start.
5. ``plan_reviews_on_time``: every plan review scheduled on or before ``as_of`` was held
   within ``grace_days`` days after its date (one still open inside the grace is not late).
6. ``absence_evidence``: every approved excused absence has its evidence file, and the file
   can be read (a stored file that is missing or unreadable counts as no evidence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field

from lib.months import add_months, month_start

# --- The snapshot: plain values, no model instances ------------------------------------------


@dataclass(frozen=True)
class MonthRecord:
    period: dt.date  # first day of the month
    status: str  # participation.MonthStatus value
    study_minutes: int = 0
    quota_minutes: int = 0


@dataclass(frozen=True)
class LectureRecord:
    lecture_id: int
    title: str
    day: dt.date
    required: bool
    status: str  # live.AttendanceStatus value (the effective one)
    makeup_done: bool = False


@dataclass(frozen=True)
class LessonRecord:
    """A lesson the person studied (``learning.LessonProgress``): the time the server
    credited, the quiz, and the day it was completed (``None`` while not completed)."""

    title: str
    minutes: int
    quiz_passed: bool
    completed_on: dt.date | None = None


@dataclass(frozen=True)
class QuestionnaireRecord:
    assignment_id: int
    reason: str  # assessments.AssignmentReason value
    title: str
    status: str  # assessments.AssignmentStatus value
    submitted_on: dt.date | None = None
    reviewed_on: dt.date | None = None
    # Only the counselor's copy shows these two.
    scores: tuple[tuple[str, str], ...] = ()  # (scale's name, "score（band）"), in words
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanRecord:
    version: int
    status: str
    approved_on: dt.date | None = None


@dataclass(frozen=True)
class PlanReviewRecord:
    plan_version: int
    scheduled_for: dt.date
    held_on: dt.date | None = None


@dataclass(frozen=True)
class AbsenceRecord:
    absence_id: int
    period: dt.date
    requirement: str
    status: str  # participation.AbsenceStatus value
    has_evidence: bool
    evidence_type: str = ""
    evidence_name: str = ""  # the stored file's name in private storage
    filed_on: dt.date | None = None
    decided_on: dt.date | None = None
    # "missing" or "unreadable" when the stored file cannot be attached (``dossiers.evidence``)
    evidence_problem: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Everything the file says about one person, read at ``read_at``."""

    person_id: int
    case_number: str
    full_name: str
    office: str
    supervision_start: dt.date
    supervision_end: dt.date
    read_on: dt.date
    months: tuple[MonthRecord, ...] = ()
    lectures: tuple[LectureRecord, ...] = ()
    lessons: tuple[LessonRecord, ...] = ()
    questionnaires: tuple[QuestionnaireRecord, ...] = ()
    plans: tuple[PlanRecord, ...] = ()
    plan_reviews: tuple[PlanReviewRecord, ...] = ()
    absences: tuple[AbsenceRecord, ...] = ()

    @property
    def as_of(self) -> dt.date:
        return min(self.supervision_end, self.read_on)


@dataclass(frozen=True)
class Verdict:
    complete: bool
    missing: tuple[str, ...] = ()
    why: str = ""
    checked: int = 0  # how many items the rule looked at
    items: tuple[str, ...] = field(default=(), compare=False)  # what it found, for the PDF


# --- Parameters per rule kind ---------------------------------------------------------------


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(_Params):
    pass


class QuestionnaireParams(_Params):
    reasons: list[Literal["intake", "periodic", "exit", "ad_hoc"]] = Field(
        default_factory=lambda: ["intake", "exit"], min_length=1
    )


class PlanParams(_Params):
    days: int = Field(default=30, ge=1, le=366)
    grace_days: int = Field(default=7, ge=0, le=90)


# --- The rules ------------------------------------------------------------------------------

MET_STATUSES = frozenset({"met", "excused"})
ATTENDED = frozenset({"present", "late", "excused"})
NEEDS_MAKEUP = frozenset({"absent", "left_early"})


def months_under_supervision(start: dt.date, as_of: dt.date) -> list[dt.date]:
    months: list[dt.date] = []
    month = month_start(start)
    while month <= as_of:
        months.append(month)
        month = add_months(month, 1)
    return months


def monthly_study(snapshot: Snapshot, params: NoParams) -> Verdict:
    by_month = {record.period: record for record in snapshot.months}
    missing: list[str] = []
    items: list[str] = []
    months = months_under_supervision(snapshot.supervision_start, snapshot.as_of)
    for month in months:
        record = by_month.get(month)
        label = f"{month:%Y-%m}"
        if record is None:
            missing.append(_("%(month)s: no study record") % {"month": label})
        elif record.status not in MET_STATUSES:
            missing.append(_("%(month)s: requirement not met") % {"month": label})
        if record is not None:
            items.append(f"{label}: {record.study_minutes}/{record.quota_minutes}")
    why = (
        _("Every month under supervision has a study record that is met or excused.")
        if not missing
        else _("%(count)d of %(months)d months lack a complete study record.")
        % {"count": len(missing), "months": len(months)}
    )
    return Verdict(not missing, tuple(missing), why, len(months), tuple(items))


def required_lectures(snapshot: Snapshot, params: NoParams) -> Verdict:
    missing: list[str] = []
    required = [
        lecture
        for lecture in snapshot.lectures
        if lecture.required and lecture.day <= snapshot.as_of
    ]
    for lecture in required:
        if lecture.status in ATTENDED:
            continue
        if lecture.status in NEEDS_MAKEUP and lecture.makeup_done:
            continue
        missing.append(
            _("%(day)s %(title)s: not attended, no makeup completed")
            % {"day": lecture.day.isoformat(), "title": lecture.title}
        )
    why = (
        _("Every required lecture was attended, excused or made up.")
        if not missing
        else _("%(count)d required lectures were neither attended, excused nor made up.")
        % {"count": len(missing)}
    )
    return Verdict(not missing, tuple(missing), why, len(required))


# The labels of ``assessments.AssignmentReason`` (same msgids; rules read no models).
REASONS = {
    "intake": gettext_lazy("Intake"),
    "periodic": gettext_lazy("Periodic"),
    "exit": gettext_lazy("Before release"),
    "ad_hoc": gettext_lazy("Ad hoc"),
}


def questionnaires_reviewed(snapshot: Snapshot, params: QuestionnaireParams) -> Verdict:
    missing: list[str] = []
    for reason in params.reasons:
        label = str(REASONS.get(reason, reason))
        rows = [q for q in snapshot.questionnaires if q.reason == reason]
        if not any(q.submitted_on for q in rows):
            missing.append(_("No submitted questionnaire (%(reason)s)") % {"reason": label})
        elif not any(q.submitted_on and q.reviewed_on for q in rows):
            missing.append(_("Questionnaire not reviewed (%(reason)s)") % {"reason": label})
    why = (
        _("The required questionnaires were submitted and reviewed.")
        if not missing
        else _("A required questionnaire is missing or was not reviewed.")
    )
    return Verdict(not missing, tuple(missing), why, len(params.reasons))


def plan_approved(snapshot: Snapshot, params: PlanParams) -> Verdict:
    deadline = snapshot.supervision_start + dt.timedelta(days=params.days)
    approved = sorted(p.approved_on for p in snapshot.plans if p.approved_on)
    missing: list[str] = []
    if not approved:
        missing.append(_("No approved assistance plan"))
    elif approved[0] > deadline:
        missing.append(
            _("First plan approved on %(day)s, after %(deadline)s")
            % {"day": approved[0].isoformat(), "deadline": deadline.isoformat()}
        )
    why = (
        _("A plan was approved within %(days)d days of intake.") % {"days": params.days}
        if not missing
        else _("A plan must be approved within %(days)d days of intake.") % {"days": params.days}
    )
    return Verdict(not missing, tuple(missing), why, len(snapshot.plans))


def plan_reviews_on_time(snapshot: Snapshot, params: PlanParams) -> Verdict:
    grace = dt.timedelta(days=params.grace_days)
    due = [r for r in snapshot.plan_reviews if r.scheduled_for <= snapshot.as_of]
    missing: list[str] = []
    for review in due:
        if review.held_on is None:
            if review.scheduled_for + grace <= snapshot.as_of:
                missing.append(
                    _("Review due %(day)s was not held") % {"day": review.scheduled_for.isoformat()}
                )
        elif review.held_on > review.scheduled_for + grace:
            missing.append(
                _("Review due %(day)s was held late, on %(held)s")
                % {"day": review.scheduled_for.isoformat(), "held": review.held_on.isoformat()}
            )
    why = (
        _("Every plan review was held on time.")
        if not missing
        else _("Plan reviews must be held within %(days)d days of their date.")
        % {"days": params.grace_days}
    )
    return Verdict(not missing, tuple(missing), why, len(due))


def absence_evidence(snapshot: Snapshot, params: NoParams) -> Verdict:
    approved = [a for a in snapshot.absences if a.status == "approved"]
    missing: list[str] = []
    for a in approved:
        names = {"month": f"{a.period:%Y-%m}", "requirement": a.requirement}
        if not a.has_evidence:
            missing.append(_("%(month)s %(requirement)s: excused without evidence") % names)
        elif a.evidence_problem == "missing":
            missing.append(
                _("%(month)s %(requirement)s: the evidence file is not in storage") % names
            )
        elif a.evidence_problem:
            missing.append(_("%(month)s %(requirement)s: the evidence file cannot be read") % names)
    why = (
        _("Every excused absence has its evidence.")
        if not missing
        else _("%(count)d excused absences have no evidence file.") % {"count": len(missing)}
    )
    return Verdict(not missing, tuple(missing), why, len(approved))


@dataclass(frozen=True)
class Rule:
    check: Callable[[Snapshot, BaseModel], Verdict]
    params: type[_Params]


RULES: dict[str, Rule] = {
    "monthly_study": Rule(monthly_study, NoParams),
    "required_lectures": Rule(required_lectures, NoParams),
    "questionnaires_reviewed": Rule(questionnaires_reviewed, QuestionnaireParams),
    "plan_approved": Rule(plan_approved, PlanParams),
    "plan_reviews_on_time": Rule(plan_reviews_on_time, PlanParams),
    "absence_evidence": Rule(absence_evidence, NoParams),
}


# Each rule in plain words, for the catalogue's forms (administrators choose from these).
RULE_LABELS = {
    "monthly_study": gettext_lazy("Every month under supervision has a met study record"),
    "required_lectures": gettext_lazy("Every required lecture attended, excused or made up"),
    "questionnaires_reviewed": gettext_lazy("Chosen questionnaires submitted and reviewed"),
    "plan_approved": gettext_lazy("An assistance plan approved within a number of days"),
    "plan_reviews_on_time": gettext_lazy("Every plan review held on time"),
    "absence_evidence": gettext_lazy("Every excused absence with its evidence file"),
}
# The parameters each rule reads (the others keep their defaults).
RULE_PARAMS: dict[str, tuple[str, ...]] = {
    "questionnaires_reviewed": ("reasons",),
    "plan_approved": ("days",),
    "plan_reviews_on_time": ("grace_days",),
}


def evaluate(kind: str, params: dict, snapshot: Snapshot) -> Verdict:
    """The verdict of rule ``kind`` with ``params`` (validated by the catalogue's schema)."""
    rule = RULES[kind]
    return rule.check(snapshot, rule.params.model_validate(params))
