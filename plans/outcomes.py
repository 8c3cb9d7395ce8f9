"""Evidence of progress per goal: retest scores with reliable change, course completion,
counseling attendance, the lectures of a lecture series with the person's attendance at each
(and lecture participation from the ledger). A fixed number of queries per plan, however many
goals and interventions it has.

Scores and reliable change are shown only to viewers who may see the person's results
(``services.may_see_results``); everyone else sees whether a retest was done, not its score.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import AssignmentStatus, Result
from assessments.norms import ReliableChange, reliable_change
from learning.services import course_progress
from live.models import Attendance as LiveAttendance
from live.models import AttendanceStatus, Lecture, Makeup
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from plans.models import AppointmentStatus, CounselingAppointment, Goal, Intervention, Plan
from plans.schema import InterventionKind


@dataclass
class Retest:
    instrument: str
    assignment_status: str | None
    due: object = None
    score: float | None = None
    band: str = ""
    baseline: float | None = None
    baseline_band: str = ""
    change: ReliableChange | None = None
    submitted_at: object = None


@dataclass
class Attendance:
    attended: int = 0
    missed: int = 0
    cancelled: int = 0
    upcoming: int = 0
    next_at: object = None

    @property
    def rate(self) -> int | None:
        held = self.attended + self.missed
        return None if not held else self.attended * 100 // held


@dataclass
class LectureOutcome:
    """One lecture of a lecture series and the person's attendance at it: ``status`` is the
    effective ``live.Attendance`` status (staff override first), empty until computed."""

    lecture: Lecture
    status: str = ""
    made_up: bool = False
    ended: bool = False

    @property
    def label(self) -> str:
        if self.status:
            label = str(AttendanceStatus(self.status).label)
            return _("%(status)s, made up") % {"status": label} if self.made_up else label
        if self.ended:
            return _("attendance not counted yet")
        return _("coming up")


@dataclass
class InterventionOutcome:
    intervention: Intervention
    courses: list = field(default_factory=list)  # learning.services.CourseProgress
    retest: Retest | None = None
    attendance: Attendance | None = None
    lectures: list[LectureOutcome] | None = None  # the series' linked lectures
    lecture_totals: dict | None = None  # ledger since approval: {"completed": n, "minutes": m}


@dataclass
class GoalOutcome:
    goal: Goal
    interventions: list[InterventionOutcome]


def _band_code(result: Result | None) -> str:
    if result is None:
        return ""
    return (result.scales.get("total") or {}).get("band") or ""


def _score(result: Result | None):
    if result is None:
        return None
    return (result.scales.get("total") or {}).get("score")


def plan_outcomes(plan: Plan, show_scores: bool) -> list[GoalOutcome]:
    """Outcomes of each goal of ``plan``. Retest scores only when ``show_scores``."""
    person = plan.person
    goals = list(
        plan.goals.prefetch_related(
            Prefetch(
                "interventions",
                queryset=Intervention.objects.select_related(
                    "assignment__instrument_version__instrument", "assignment__response__result"
                ).prefetch_related(
                    "enrollments__course",
                    "appointments",
                    Prefetch("lectures", queryset=Lecture.objects.order_by("start", "pk")),
                ),
            )
        )
    )
    interventions = [i for g in goals for i in g.interventions.all()]
    kinds = {i.kind for i in interventions}
    # The plan's counseling is one series (plans.booking): its appointments belong to the
    # first counseling intervention and serve every goal with counseling.
    counseling = [
        a
        for i in interventions
        if i.kind == InterventionKind.COUNSELING
        for a in i.appointments.all()
    ]

    progress = {}
    if InterventionKind.COURSE in kinds:
        progress = {c.course.pk: c for c in course_progress(person)}

    baselines: dict[int, Result] = {}
    if show_scores and InterventionKind.RETEST in kinds:
        slugs = {
            i.assignment.instrument_version.instrument.slug
            for i in interventions
            if i.assignment is not None
        }
        history = defaultdict(list)
        for result in (
            Result.objects.filter(person=person, instrument_version__instrument__slug__in=slugs)
            .select_related("instrument_version__instrument")
            .order_by("created_at", "pk")
        ):
            history[result.instrument_version.instrument.slug].append(result)
        for i in interventions:
            if i.assignment is None:
                continue
            earlier = [
                r
                for r in history[i.assignment.instrument_version.instrument.slug]
                if r.created_at < i.assignment.assigned_at
            ]
            if earlier:
                baselines[i.pk] = earlier[-1]

    lectures = None
    if InterventionKind.LECTURE_SERIES in kinds and plan.approved_at is not None:
        since = timezone.localtime(plan.approved_at).date().replace(day=1)
        rows = ParticipationRecord.objects.filter(
            person=person,
            source__in=[ParticipationSource.LECTURE, ParticipationSource.MAKEUP],
            period__gte=since,
        ).values_list("status", "minutes")
        rows = list(rows)
        lectures = {
            "completed": sum(1 for status, _m in rows if status == ParticipationStatus.COMPLETED),
            "minutes": sum(m for _s, m in rows),
        }

    now = timezone.now()
    statuses: dict[int, str] = {}
    made_up: set[int] = set()
    series = [i for i in interventions if i.kind == InterventionKind.LECTURE_SERIES]
    lecture_ids = {lecture.pk for i in series for lecture in i.lectures.all()}
    if lecture_ids:
        statuses = dict(
            LiveAttendance.objects.filter(person=person, lecture_id__in=lecture_ids)
            .with_effective_status()
            .values_list("lecture_id", "effective")
        )
        made_up = set(
            Makeup.objects.filter(
                person=person, lecture_id__in=lecture_ids, completed_at__isnull=False
            ).values_list("lecture_id", flat=True)
        )

    outcomes = []
    for goal in goals:
        rows = []
        for intervention in goal.interventions.all():
            outcome = InterventionOutcome(intervention)
            if intervention.kind == InterventionKind.COURSE:
                outcome.courses = [
                    progress[e.course_id]
                    for e in intervention.enrollments.all()
                    if e.course_id in progress
                ]
            elif intervention.kind == InterventionKind.RETEST:
                outcome.retest = _retest(intervention, baselines.get(intervention.pk), show_scores)
            elif intervention.kind == InterventionKind.COUNSELING:
                outcome.attendance = _attendance(counseling, now)
            elif intervention.kind == InterventionKind.LECTURE_SERIES:
                outcome.lecture_totals = lectures
                outcome.lectures = [
                    LectureOutcome(
                        lecture,
                        status=statuses.get(lecture.pk, ""),
                        made_up=lecture.pk in made_up,
                        ended=lecture.has_ended(now),
                    )
                    for lecture in intervention.lectures.all()
                ]
            rows.append(outcome)
        outcomes.append(GoalOutcome(goal, rows))
    return outcomes


def _retest(intervention: Intervention, baseline: Result | None, show_scores: bool) -> Retest:
    assignment = intervention.assignment
    slug = intervention.details.get("instrument", "")
    if assignment is None:
        return Retest(instrument=slug, assignment_status=None)
    retest = Retest(
        instrument=assignment.instrument_version.instrument.slug,
        assignment_status=assignment.status,
        due=assignment.due,
    )
    result = None
    if assignment.status == AssignmentStatus.SUBMITTED:
        response = getattr(assignment, "response", None)
        result = getattr(response, "result", None) if response is not None else None
    if result is not None:
        retest.submitted_at = result.created_at
    if show_scores:
        retest.score = _score(result)
        retest.band = _band_code(result)
        retest.baseline = _score(baseline)
        retest.baseline_band = _band_code(baseline)
        if result is not None and baseline is not None:
            retest.change = reliable_change(
                retest.instrument, "total", retest.baseline, retest.score
            )
    return retest


def _attendance(appointments, now) -> Attendance:
    attendance = Attendance()
    for appointment in appointments:
        if appointment.status == AppointmentStatus.ATTENDED:
            attendance.attended += 1
        elif appointment.status == AppointmentStatus.MISSED:
            attendance.missed += 1
        elif appointment.status == AppointmentStatus.CANCELLED:
            attendance.cancelled += 1
        else:
            attendance.upcoming += 1
            if appointment.scheduled_at >= now and (
                attendance.next_at is None or appointment.scheduled_at < attendance.next_at
            ):
                attendance.next_at = appointment.scheduled_at
    return attendance


def describe_change(change: ReliableChange | None) -> str:
    if change is None:
        return _("not available")
    if not change.reliable:
        return _("RCI %(rci)s: no reliable change") % {"rci": change.rci}
    if change.direction == "down":
        return _("RCI %(rci)s: reliable decrease") % {"rci": change.rci}
    return _("RCI %(rci)s: reliable increase") % {"rci": change.rci}


def appointments_for(plan: Plan):
    """The plan's appointments, soonest first (for the counselor's attendance list)."""
    return (
        CounselingAppointment.objects.filter(intervention__goal__plan=plan)
        .select_related("counselor")
        .order_by("scheduled_at", "pk")
    )
