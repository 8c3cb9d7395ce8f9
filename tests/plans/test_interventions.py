"""Interventions linked to real things: a lecture series books the person into the upcoming
lectures on its topic and shows their attendance; a retest dropped from a revision (or whose
goal or plan is closed) has the assignment the plan made cancelled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assignment, AssignmentStatus
from assessments.taking import do_submit
from audit.models import AccessEvent, Action
from courses.models import Topic
from live.audience import do_resolve_audience
from live.models import Attendance, Lecture, LectureAudience
from live.services import current_policy
from people.models import PersonStatus
from plans.activation import do_book_lecture_series
from plans.approval import do_approve_plan
from plans.drafting import do_revise_plan
from plans.editing import do_update_plan
from plans.followup import do_close_plan, do_record_review
from plans.models import ChangeAction, Goal, GoalStatus, Intervention, Plan, PlanStatus
from plans.outcomes import plan_outcomes
from plans.schema import Domain
from tests.assessments.helpers import answer_all, assign
from tests.factories import login_staff
from tests.live.helpers import make_lecture
from tests.plans.helpers import PHQ9_MODERATE, intake, reviewed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SERIES = {"kind": "lecture_series", "topic": Topic.LEGAL}


def in_days(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def draft_with_series(org, due_in_days: int = 60) -> Plan:
    """A draft of the learner with one extra goal served by a legal lecture series."""
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)
    do_update_plan(
        plan,
        {
            "goals_add": [
                {
                    "domain": Domain.LEGAL,
                    "title": "了解社区矫正的规定",
                    "target": "参加两次法治讲座",
                    "due": (timezone.localdate() + dt.timedelta(days=due_in_days)).isoformat(),
                    "interventions": [SERIES],
                }
            ]
        },
        org.counselor,
        "legal lectures",
        plan.revision,
    )
    return plan


def series_of(plan: Plan) -> Intervention:
    return Intervention.objects.get(goal__plan=plan, goal__title="了解社区矫正的规定")


@pytest.fixture
def lectures(org):
    """Lectures around the learner (east office, normal category)."""
    return {
        # the person is already in the audience (their office)
        "east": make_lecture(org, start=in_days(3), topic=Topic.LEGAL),
        # for the whole bureau but only the strict category: joinable, person added by name
        "strict": make_lecture(
            org, start=in_days(5), topic=Topic.LEGAL, offices=(org.bureau,), categories=("strict",)
        ),
        # categories only, no office: joinable
        "lenient": make_lecture(org, start=in_days(6), topic=Topic.LEGAL, categories=("lenient",)),
        # another office's lecture: not for this person
        "west": make_lecture(org, start=in_days(4), topic=Topic.LEGAL, offices=(org.west,)),
        # another topic
        "moral": make_lecture(org, start=in_days(4), topic=Topic.MORAL),
        # after the goal is due
        "late": make_lecture(org, start=in_days(90), topic=Topic.LEGAL),
        # already over
        "past": make_lecture(org, start=in_days(-2), topic=Topic.LEGAL),
        # only named persons: a private session, not joinable
        "private": make_lecture(
            org, start=in_days(7), topic=Topic.LEGAL, persons=(org.other_person,)
        ),
    }


def test_approval_books_the_upcoming_lectures_of_the_topic(org, lectures):
    plan = draft_with_series(org)
    # the audience of the strict lecture is fixed already (e.g. resolved early by hand)
    fixed = make_lecture(
        org, start=in_days(8), topic=Topic.LEGAL, offices=(org.bureau,), categories=("strict",)
    )
    do_resolve_audience(fixed)
    report = do_approve_plan(plan, org.counselor)
    series = series_of(plan)
    linked = set(series.lectures.all())
    assert linked == {lectures["east"], lectures["strict"], lectures["lenient"]}
    assert series.activated_at is not None
    # named in the audience where they were not in it yet, and only there
    for name in ("strict", "lenient"):
        assert org.person in lectures[name].audience_persons.all()
    for name in ("east", "west", "private", "late"):
        assert org.person not in lectures[name].audience_persons.all()
    assert not fixed.audience_persons.exists()
    assert not LectureAudience.objects.filter(lecture=fixed, person=org.person).exists()
    # the lectures are now the person's
    assert set(Lecture.objects.for_person(org.person).filter(topic=Topic.LEGAL).upcoming()) >= (
        linked
    )
    line = next(line for line in report.put_in_place if "Lectures on" in line)
    assert lectures["strict"].title in line
    approved = plan.changes.get(action=ChangeAction.APPROVED)
    assert line in approved.diff["put_in_place"]


def test_no_upcoming_lecture_is_reported_and_the_series_is_not_in_place(org):
    make_lecture(org, start=in_days(3), topic=Topic.MORAL)
    plan = draft_with_series(org)
    report = do_approve_plan(plan, org.counselor)
    series = series_of(plan)
    assert series.activated_at is None and not series.lectures.exists()
    assert any("No upcoming lecture" in w for w in report.warnings)


def test_a_person_no_longer_supervised_is_booked_nowhere(org, lectures):
    org.person.status = PersonStatus.ENDED
    org.person.save(update_fields=["status"])
    booked = do_book_lecture_series(
        org.person, Topic.LEGAL, timezone.localdate() + dt.timedelta(days=60)
    )
    assert booked == []
    assert not Lecture.audience_persons.through.objects.filter(person=org.person).exists()


def test_booking_twice_changes_nothing(org, lectures):
    until = timezone.localdate() + dt.timedelta(days=60)
    first = do_book_lecture_series(org.person, Topic.LEGAL, until)
    rows = Lecture.audience_persons.through.objects.filter(person=org.person).count()
    second = do_book_lecture_series(org.person, Topic.LEGAL, until)
    assert first == second
    assert Lecture.audience_persons.through.objects.filter(person=org.person).count() == rows


def test_a_revision_carries_the_lectures(org, lectures):
    plan = draft_with_series(org)
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    draft = do_revise_plan(plan, org.counselor, "new circumstances")
    carried = Intervention.objects.get(goal__plan=draft, carried_from=series_of(plan))
    assert set(carried.lectures.all()) == set(series_of(plan).lectures.all())


def test_outcomes_and_the_plan_page_show_each_lecture_with_the_attendance(
    client, org, lectures, django_assert_max_num_queries
):
    plan = draft_with_series(org)
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    # the east lecture took place: computed absent, corrected by staff to present
    east = lectures["east"]
    start = timezone.now() - dt.timedelta(hours=3)
    Lecture.objects.filter(pk=east.pk).update(start=start, end=start + dt.timedelta(hours=1))
    do_resolve_audience(east)
    Attendance.objects.create(
        lecture=east,
        person=org.person,
        status="absent",
        override_status="present",
        override_reason="signed in at the centre",
        policy=current_policy(),
        computed_at=timezone.now(),
    )
    outcome = next(
        row
        for goal in plan_outcomes(plan, show_scores=False)
        for row in goal.interventions
        if row.intervention.kind == "lecture_series"
    )
    by_lecture = {row.lecture.pk: row for row in outcome.lectures}
    assert by_lecture[east.pk].status == "present" and by_lecture[east.pk].label == "Present"
    assert by_lecture[lectures["strict"].pk].label == "coming up"
    assert [row.lecture.start for row in outcome.lectures] == sorted(
        row.lecture.start for row in outcome.lectures
    )

    login_staff(client, org.officer)  # officers see progress too
    body = client.get(reverse("plans_plan_detail", args=[plan.pk])).content.decode()
    assert f'data-testid="series-lecture-{east.pk}" data-status="present"' in body
    assert lectures["strict"].title in body and lectures["west"].title not in body

    # the page costs the same however many lectures the series has
    login_staff(client, org.counselor)
    url = reverse("plans_plan_detail", args=[plan.pk])
    with django_assert_max_num_queries(80) as before:
        client.get(url)
    more = [make_lecture(org, start=in_days(10 + n), topic=Topic.LEGAL) for n in range(5)]
    series_of(plan).lectures.add(*more)
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(url)


def test_the_person_sees_the_upcoming_lectures_of_the_plan(client, org, lectures):
    plan = draft_with_series(org)
    do_approve_plan(plan, org.counselor)
    client.force_login(org.learner)
    body = client.get(reverse("plans_mine")).content.decode()
    assert 'data-testid="plan-lectures"' in body
    assert reverse("live_lecture", args=[lectures["strict"].pk]) in body
    # and the lecture page lets them in: they are in its audience now
    assert client.get(reverse("live_lecture", args=[lectures["strict"].pk])).status_code == 200


# --- Retests ----------------------------------------------------------------------------------


@pytest.fixture
def approved(org) -> Plan:
    intake(org.person, org.officer, employment="unemployed")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    return plan


def retest_of(plan: Plan) -> Intervention:
    return Intervention.objects.get(
        goal__plan=plan, goal__domain=Domain.MENTAL_HEALTH, kind="retest"
    )


def revise_without_retest(plan: Plan, org) -> Plan:
    draft = do_revise_plan(plan, org.counselor, "doing better")
    do_update_plan(
        draft,
        {"interventions_remove": [retest_of(draft).pk]},
        org.counselor,
        "no retest needed",
        draft.revision,
    )
    return draft


def test_a_retest_dropped_from_a_revision_is_cancelled_on_approval(approved, org):
    old = retest_of(approved)
    assert old.assignment_created and old.assignment.status == AssignmentStatus.OPEN
    draft = revise_without_retest(approved, org)
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.OPEN
    report = do_approve_plan(draft, org.counselor)
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.CANCELLED
    assert report.cancelled == [{"assignment": old.assignment_id, "instrument": "phq9"}]
    change = draft.changes.get(action=ChangeAction.APPROVED)
    assert change.diff["retests_cancelled"] == report.cancelled
    event = AccessEvent.objects.get(
        action=Action.CHANGE, object_id=str(old.assignment_id), detail__contains="cancelled"
    )
    assert event.user_id == org.counselor.pk and event.person_id == org.person.pk


def test_a_carried_retest_keeps_its_assignment(approved, org):
    old = retest_of(approved)
    draft = do_revise_plan(approved, org.counselor, "just checking")
    do_approve_plan(draft, org.counselor)
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.OPEN
    assert retest_of(draft).assignment_id == old.assignment_id


def test_a_retest_already_answered_is_left_alone(approved, org):
    old = retest_of(approved)
    answer_all(old.assignment, PHQ9_MODERATE)
    do_submit(old.assignment)
    draft = revise_without_retest(approved, org)
    report = do_approve_plan(draft, org.counselor)
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.SUBMITTED
    assert report.cancelled == []


def test_an_assignment_the_plan_only_linked_is_not_cancelled(org):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    scheduled = assign(org.person, None, "phq9")  # e.g. from the questionnaire schedule
    plan = Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    assert retest_of(plan).assignment == scheduled and not retest_of(plan).assignment_created
    draft = revise_without_retest(plan, org)
    do_approve_plan(draft, org.counselor)
    assert Assignment.objects.get(pk=scheduled.pk).status == AssignmentStatus.OPEN


def test_closing_the_goal_at_a_review_cancels_its_retest(approved, org):
    old = retest_of(approved)
    decisions = {g.pk: "continue" for g in approved.goals.all()}
    decisions[old.goal_id] = "close"
    do_record_review(approved, org.counselor, decisions)
    assert Goal.objects.get(pk=old.goal_id).status == GoalStatus.CLOSED
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.CANCELLED
    change = approved.changes.get(action=ChangeAction.REVIEWED)
    assert change.diff["retests_cancelled"][0]["assignment"] == old.assignment_id


def test_closing_the_plan_cancels_its_pending_retests(approved, org):
    old = retest_of(approved)
    do_close_plan(approved, org.counselor, "supervision ended early")
    assert Assignment.objects.get(pk=old.assignment_id).status == AssignmentStatus.CANCELLED
    change = approved.changes.get(action=ChangeAction.CLOSED)
    assert change.diff["retests_cancelled"][0]["instrument"] == "phq9"
