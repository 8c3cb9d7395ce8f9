"""Putting an approved plan's interventions in place, and taking them back.

``ACTIVATORS`` maps each intervention kind to the function that puts one intervention in
place: enrol the person in the matching courses, book the upcoming lectures of a series
(through ``live``), assign the retest, make the counseling appointments. A referral is made
outside the platform, so there is nothing to do. Each returns an ``Outcome``: a line for the
history, or a warning for the counselor when nothing could be put in place yet; such an
intervention stays not activated, and the next approved version tries again.

``cancel_retests`` and ``carry_appointments`` undo or carry over what activation did when a
version is replaced, a goal is closed at a review or the plan is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assignment, AssignmentReason
from assessments.services import AssignmentNotPending, do_cancel_assignment
from assessments.taking import AssessmentError, do_assign
from courses.models import CoursePage, Topic
from learning.enrollment import do_enroll
from learning.models import Enrollment
from live.models import Lecture
from people.models import Person, PersonStatus, User
from plans.booking import Busy, Series, merge_series, schedule_series
from plans.models import (
    AppointmentStatus,
    CounselingAppointment,
    GoalStatus,
    Intervention,
    Plan,
    PlanStatus,
)
from plans.schema import (
    CounselingDef,
    CourseDef,
    InterventionKind,
    LectureSeriesDef,
    ReferralDef,
    RetestDef,
    intervention_def,
)

APPOINTMENT_HOUR = 10
# A retest opens on its planned day and stays open this long.
RETEST_WINDOW = dt.timedelta(days=14)
APPOINTMENT_MINUTES = 50


@dataclass(frozen=True)
class Outcome:
    """What activating one intervention did: ``done`` says what was put in place (empty when
    there is nothing to say), ``warning`` why nothing could be, and the counselor's next step."""

    done: str = ""
    warning: str = ""


def appointment_time(day: dt.date) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(APPOINTMENT_HOUR, 0))
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _enroll_in_courses(
    intervention: Intervention, details: CourseDef, person: Person, by: User, today: dt.date
) -> Outcome:
    courses = CoursePage.objects.live().filter(
        **({"slug": details.slug} if details.slug else {"topic": details.topic})
    )
    courses = list(courses.order_by("path"))
    if not courses:
        what = details.slug or Topic(details.topic).label
        return Outcome(
            warning=_("No published course matches “%(what)s”: enroll the person by hand later.")
            % {"what": what}
        )
    for course in courses:
        if not Enrollment.objects.filter(person=person, course=course).exists():
            do_enroll(by, course, Person.objects.filter(pk=person.pk), intervention.goal.due)
    enrollments = list(Enrollment.objects.filter(person=person, course__in=courses))
    if not enrollments:
        return Outcome(
            warning=_("%(name)s could not be enrolled (supervision has ended?).")
            % {"name": person.full_name}
        )
    intervention.enrollments.set(enrollments)
    return Outcome(
        done=_("Enrolled in: %(courses)s") % {"courses": "、".join(c.title for c in courses)}
    )


def _book_lectures(
    intervention: Intervention,
    details: LectureSeriesDef,
    person: Person,
    by: User,
    today: dt.date,
) -> Outcome:
    due = intervention.goal.due
    lectures = do_book_lecture_series(person, details.topic, due)
    if not lectures:
        return Outcome(
            warning=_(
                "No upcoming lecture on “%(topic)s” before %(due)s: add the person to a "
                "lecture by hand, or revise the plan once one is scheduled."
            )
            % {"topic": Topic(details.topic).label, "due": due.isoformat()}
        )
    intervention.lectures.set(lectures)
    return Outcome(
        done=_("Lectures on %(topic)s: %(lectures)s")
        % {
            "topic": Topic(details.topic).label,
            "lectures": "、".join(
                f"{timezone.localtime(lecture.start):%Y-%m-%d} {lecture.title}"
                for lecture in lectures
            ),
        }
    )


def _assign_retest(
    intervention: Intervention, details: RetestDef, person: Person, by: User, today: dt.date
) -> Outcome:
    opens_on = today + dt.timedelta(days=details.interval_days)
    due = opens_on + RETEST_WINDOW
    created = True
    try:
        assignment = do_assign(
            details.instrument, person, by, AssignmentReason.PERIODIC, due, opens_on=opens_on
        )
    except AssessmentError:
        created = False
        assignment = (
            Assignment.objects.filter(
                person=person, instrument_version__instrument__slug=details.instrument
            )
            .open()
            .order_by("-assigned_at")
            .first()
        )
        if assignment is None:
            return Outcome(
                warning=_(
                    "The questionnaire “%(slug)s” is not in the library: assign the retest by hand."
                )
                % {"slug": details.instrument}
            )
    intervention.assignment = assignment
    intervention.assignment_created = created
    intervention.save(update_fields=["assignment", "assignment_created"])
    return Outcome(
        done=_("Retest of %(title)s opens %(opens)s, due %(due)s")
        % {
            "title": assignment.instrument_version.instrument.localized_title(),
            "opens": (
                assignment.opens_on or timezone.localdate(assignment.assigned_at)
            ).isoformat(),
            "due": (assignment.due or due).isoformat(),
        }
    )


def _make_appointments(
    intervention: Intervention, details: CounselingDef, person: Person, by: User, today: dt.date
) -> Outcome:
    return do_book_counseling([intervention], person, by, today)


def do_book_counseling(
    interventions: list[Intervention], person: Person, by: User, today: dt.date
) -> Outcome:
    """Book the counseling ``interventions`` of one plan, all held by ``by``, as one series
    (``plans.booking``): the appointments belong to the first of them, each at the first slot
    free in the counselor's and the person's calendars. Call inside a transaction: the
    counselor's row is locked so that two approvals cannot take the same slot."""
    User.objects.select_for_update().filter(pk=by.pk).first()
    details = [intervention_def(i.details) for i in interventions]
    series = merge_series(Series(d.interval_days, d.sessions) for d in details)
    if series is None:
        return Outcome()
    length = dt.timedelta(minutes=APPOINTMENT_MINUTES)
    zone = timezone.get_default_timezone()
    since = timezone.now() - dt.timedelta(days=1)
    taken = CounselingAppointment.objects.filter(
        Q(counselor=by) | Q(person=person),
        status=AppointmentStatus.SCHEDULED,
        scheduled_at__gte=since,
    ).values_list("scheduled_at", "duration_minutes")
    busy = [Busy(start, start + dt.timedelta(minutes=minutes)) for start, minutes in taken]
    first_day = today + dt.timedelta(days=series.interval_days)
    times = schedule_series(series, first_day, zone, length, busy)
    CounselingAppointment.objects.bulk_create(
        CounselingAppointment(
            person=person,
            counselor=by,
            intervention=interventions[0],
            scheduled_at=at,
            duration_minutes=APPOINTMENT_MINUTES,
        )
        for at in times
    )
    return Outcome(
        done=_("%(count)s counseling appointments, every %(days)s days")
        % {"count": series.sessions, "days": series.interval_days}
    )


def _refer(
    intervention: Intervention, details: ReferralDef, person: Person, by: User, today: dt.date
) -> Outcome:
    return Outcome()


# (intervention, its parsed details, person, by, today) → what was done
Activator = Callable[[Intervention, Any, Person, User, dt.date], Outcome]

ACTIVATORS: dict[str, Activator] = {
    InterventionKind.COURSE: _enroll_in_courses,
    InterventionKind.LECTURE_SERIES: _book_lectures,
    InterventionKind.RETEST: _assign_retest,
    InterventionKind.COUNSELING: _make_appointments,
    InterventionKind.REFERRAL: _refer,
}


def activate_all(
    interventions: list[Intervention], person: Person, by: User, today: dt.date
) -> list[Outcome]:
    """Put each of ``interventions`` (not yet activated) in place; the counseling ones are one
    series with one set of appointments (``do_book_counseling``)."""
    counseling = [i for i in interventions if i.kind == InterventionKind.COUNSELING]
    outcomes = []
    if counseling:
        outcome = do_book_counseling(counseling, person, by, today)
        for intervention in counseling:
            intervention.activated_at = timezone.now()
            intervention.save(update_fields=["activated_at"])
        outcomes.append(outcome)
    for intervention in interventions:
        if intervention.kind != InterventionKind.COUNSELING:
            outcomes.append(activate(intervention, person, by, today))
    return outcomes


def activate(intervention: Intervention, person: Person, by: User, today: dt.date) -> Outcome:
    """Put ``intervention`` in place for ``person`` as ``by``; it is marked activated unless
    the outcome is a warning."""
    details = intervention_def(intervention.details)
    outcome = ACTIVATORS[details.kind](intervention, details, person, by, today)
    if not outcome.warning:
        intervention.activated_at = timezone.now()
        intervention.save(update_fields=["activated_at"])
    return outcome


# --- Lecture series ---------------------------------------------------------------------------


def series_lectures(person: Person, topic: str, until: dt.date, now: dt.datetime | None = None):
    """The lectures a lecture series on ``topic`` means for ``person``: not yet ended,
    starting on or before ``until`` (the goal's due date), soonest first."""
    now = now or timezone.now()
    end = timezone.make_aware(
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min),
        timezone.get_default_timezone(),
    )
    return Lecture.objects.filter(topic=topic, start__lt=end).upcoming(now)


def do_book_lecture_series(
    person: Person, topic: str, until: dt.date, now: dt.datetime | None = None
) -> list[Lecture]:
    """Put ``person`` in the audience of the upcoming lectures on ``topic`` up to ``until``
    and return every such lecture the person is now in the audience of.

    Lectures whose audience already holds the person are kept as they are. Lectures held for
    the person's area that have not started and whose audience is not fixed yet
    (``Lecture.objects.joinable_by``) get the person as a named member (locked, so the
    audience cannot be fixed meanwhile). A person no longer under supervision is booked
    nowhere."""
    now = now or timezone.now()
    if person.status != PersonStatus.ACTIVE:
        return []
    lectures = series_lectures(person, topic, until, now)
    with transaction.atomic():
        joinable = list(lectures.joinable_by(person, now).values_list("pk", flat=True))
        Lecture.objects.filter(pk__in=joinable).add_named_person(person)
        return list(lectures.for_person(person).select_related("lecturer"))


# --- Taking back ------------------------------------------------------------------------------


def carry_appointments(previous: Plan, new: Plan, today: dt.date) -> None:
    """Appointments follow their intervention into the new version. The plan's counseling is
    one series: when the intervention holding it was dropped but other counseling was carried,
    the series goes on under that one; when no counseling is left, the appointments from today
    on are cancelled."""
    carried = dict(
        Intervention.objects.filter(goal__plan=new, carried_from__isnull=False).values_list(
            "carried_from_id", "pk"
        )
    )
    for old_id, new_id in carried.items():
        CounselingAppointment.objects.filter(intervention_id=old_id).update(intervention_id=new_id)
    left = CounselingAppointment.objects.filter(
        intervention__goal__plan=previous,
        status=AppointmentStatus.SCHEDULED,
        scheduled_at__gte=appointment_time(today).replace(hour=0),
    )
    heir = (
        Intervention.objects.filter(
            goal__plan=new, carried_from__isnull=False, kind=InterventionKind.COUNSELING
        )
        .order_by("goal__position", "position", "pk")
        .first()
    )
    if heir is not None:
        left.update(intervention=heir)
    else:
        left.update(status=AppointmentStatus.CANCELLED)


def cancel_retests(interventions, by: User | None, reason: str) -> list[dict]:
    """Cancel the pending retest assignments that approval created for ``interventions``
    (dropped from a revision, or of a closed goal), unless an active goal of a plan in force
    or in draft still links them. An assignment already answered is left alone. Returns what
    was cancelled, for the history."""
    interventions = list(interventions)
    ids = {i.assignment_id for i in interventions if i.assignment_id and i.assignment_created}
    if not ids:
        return []
    still_wanted = set(
        Intervention.objects.filter(
            assignment_id__in=ids,
            goal__status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED],
            goal__plan__status__in=[PlanStatus.DRAFT, PlanStatus.APPROVED],
        )
        .exclude(pk__in=[i.pk for i in interventions])
        .values_list("assignment_id", flat=True)
    )
    cancelled = []
    pending = (
        Assignment.objects.open()
        .filter(pk__in=ids - still_wanted)
        .select_related("instrument_version__instrument")
        .order_by("pk")
    )
    for assignment in pending:
        try:
            do_cancel_assignment(assignment, by=by, reason=reason)
        except AssignmentNotPending:  # answered meanwhile: the answer counts
            continue
        slug = assignment.instrument_version.instrument.slug
        cancelled.append({"assignment": assignment.pk, "instrument": slug})
    return cancelled
