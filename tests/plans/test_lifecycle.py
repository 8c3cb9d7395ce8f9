"""The plan lifecycle against the database: drafting from reviewed results and intake facts,
editing with optimistic concurrency, approval by the person's own counselor only, what
approval puts in place, acknowledgement, reviews, revisions, history and the access log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from assessments.models import Assignment, AssignmentReason
from assessments.taking import do_review, do_submit
from audit.models import AccessEvent, Action
from courses.models import Topic
from learning.models import Enrollment
from lib.appendonly import AppendOnlyError
from notifications.models import Notification
from people.models import Caseload
from plans.approval import do_acknowledge, do_approve_plan
from plans.editing import do_update_plan
from plans.errors import PlanError, StaleRevision
from plans.export import collect_plan_data
from plans.followup import do_add_note, do_close_plan, do_record_appointment, do_record_review
from plans.models import (
    AppointmentStatus,
    ChangeAction,
    CounselingAppointment,
    Goal,
    GoalStatus,
    Phase,
    Plan,
    PlanChange,
    PlanRuleSet,
    PlanStatus,
)
from plans.schedule import phase_for
from plans.schema import Domain, Level
from tests.assessments.helpers import answer_all, assign, submitted
from tests.learning.builders import make_course
from tests.plans.helpers import PHQ9_MODERATE, PHQ9_SEVERE, intake, reviewed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def course(topic: str):
    page = make_course(lessons=1, quiz=False)
    page.topic = topic
    page.save(update_fields=["topic"])
    return page


def draft_of(person) -> Plan:
    return Plan.objects.get(person=person, status=PlanStatus.DRAFT)


def domains(plan: Plan) -> set[str]:
    return set(plan.goals.values_list("domain", flat=True))


# --- Drafting -----------------------------------------------------------------------------------


def test_only_a_signed_review_drafts_a_plan(org):
    result = submitted(org.person, PHQ9_MODERATE, by=org.counselor)
    assert not Plan.objects.exists()
    do_review(result, org.counselor, "Seen together.")
    plan = draft_of(org.person)
    need = plan.needs["domains"][Domain.MENTAL_HEALTH]
    assert need["level"] == Level.MODERATE
    assert need["evidence"][0]["result_id"] == result.pk
    goal = plan.goals.get(domain=Domain.MENTAL_HEALTH)
    kinds = list(goal.interventions.values_list("kind", flat=True))
    assert kinds == ["counseling", "course", "retest"]
    retest = goal.interventions.get(kind="retest")
    assert retest.details["instrument"] == "phq9"  # the instrument that raised the need
    person = org.person
    assert plan.phase == phase_for(
        person.supervision_start, person.supervision_end, timezone.localdate()
    )
    assert plan.rule_set.version == 1
    change = plan.changes.get()
    assert (change.action, change.by) == (ChangeAction.DRAFTED, org.counselor)
    assert "result" in change.reason


def test_a_review_still_signs_when_no_rules_are_loaded(org):
    PlanRuleSet.objects.all().delete()
    result = submitted(org.person, PHQ9_MODERATE, by=org.counselor)
    review = do_review(result, org.counselor, "Seen.")
    assert review.signed_at is not None
    assert not Plan.objects.exists()


def test_intake_drafts_and_a_later_review_updates_the_same_draft(org):
    facts = intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    assert plan.version == 1 and plan.revision == 1
    assert Domain.EMPLOYMENT in domains(plan)
    assert plan.needs["domains"]["employment"]["evidence"][0]["intake_id"] == facts.pk
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan.refresh_from_db()
    assert Plan.objects.filter(person=org.person).count() == 1
    assert plan.revision == 2
    assert {Domain.EMPLOYMENT, Domain.MENTAL_HEALTH} <= domains(plan)
    history = list(plan.changes.order_by("at", "pk"))
    assert [c.by for c in history] == [org.officer, org.counselor]
    assert history[1].diff["levels_changed"] == ["mental_health"]
    logged = AccessEvent.objects.filter(
        action=Action.CHANGE, object_type="plans.plan", person_id=org.person.pk
    )
    assert logged.count() == 2


def test_a_level_change_replaces_untouched_suggestions_and_keeps_edited_ones(org):
    intake(org.person, org.officer, family="strained")
    plan = draft_of(org.person)
    family = plan.goals.get(domain=Domain.FAMILY)
    assert family.suggestion == "family:moderate:0"
    intake(org.person, org.officer, family="conflict")
    plan.refresh_from_db()
    goals = plan.goals.filter(domain=Domain.FAMILY)
    assert [g.suggestion for g in goals] == ["family:high:0"]
    edited = goals.get()
    do_update_plan(
        plan,
        {"goals_update": [{"id": edited.pk, "title": "和家人一起吃晚饭"}]},
        org.counselor,
        "the person's own words",
        plan.revision,
    )
    intake(org.person, org.officer, family="strained")
    plan.refresh_from_db()
    titles = set(plan.goals.filter(domain=Domain.FAMILY).values_list("title", flat=True))
    assert "和家人一起吃晚饭" in titles and len(titles) == 2


# --- Editing --------------------------------------------------------------------------------------


def test_a_second_save_with_a_stale_revision_is_refused_and_nothing_is_lost(org):
    Caseload.objects.create(person=org.person, counselor=org.other_counselor)
    intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    opened = plan.revision  # both counselors opened the same revision
    goal = plan.goals.first()
    do_update_plan(
        plan,
        {"goals_update": [{"id": goal.pk, "target": "三个月内参加 2 次招聘会"}]},
        org.counselor,
        "agreed with the person",
        opened,
    )
    with pytest.raises(StaleRevision) as refused:
        do_update_plan(
            plan,
            {"goals_update": [{"id": goal.pk, "target": "随便"}]},
            org.other_counselor,
            "my version",
            opened,
        )
    assert org.counselor.get_full_name() in str(refused.value)
    goal.refresh_from_db()
    assert goal.target == "三个月内参加 2 次招聘会"
    plan.refresh_from_db()
    assert plan.revision == opened + 1
    assert plan.changes.filter(action=ChangeAction.UPDATED).count() == 1


def test_a_goal_without_a_target_is_refused_and_nothing_changes(org):
    intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    goal = plan.goals.first()
    before = (plan.revision, plan.goals.count(), plan.phase)
    with pytest.raises(PlanError, match="找工作.*measurable target is required"):
        do_update_plan(
            plan,
            {
                "phase": Phase.MIDDLE,
                "goals_add": [
                    {"domain": "employment", "title": "找工作", "target": " ", "due": "2027-01-01"}
                ],
            },
            org.counselor,
            "adding a goal",
            plan.revision,
        )
    with pytest.raises(PlanError, match="measurable target is required"):
        do_update_plan(
            plan,
            {"goals_update": [{"id": goal.pk, "target": ""}]},
            org.counselor,
            "x",
            plan.revision,
        )
    plan.refresh_from_db()
    assert (plan.revision, plan.goals.count(), plan.phase) == before
    goal.refresh_from_db()
    assert goal.target


def test_bad_interventions_and_foreign_ids_are_refused(org):
    intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    goal = plan.goals.first()
    cases = [
        (
            {
                "interventions_add": [
                    {"goal": goal.pk, "details": {"kind": "retest", "instrument": "phq99"}}
                ]
            },
            "unknown instrument 'phq99'",
        ),
        (
            {
                "interventions_add": [
                    {"goal": goal.pk, "details": {"kind": "counseling", "interval_days": 2}}
                ]
            },
            r"Every \(days\): Enter a number of at least 7",
        ),
        (
            {"interventions_add": [{"goal": goal.pk, "details": {"kind": "teleport"}}]},
            "Kind: Choose one of the options offered",
        ),
        ({"goals_remove": [987654]}, "not part of this plan"),
        ({"goals_update": [{"id": 987654, "title": "x"}]}, "not part of this plan"),
        ({"support_intensity": "extreme"}, "Unknown support intensity"),
        ({}, "Nothing was changed"),
    ]
    for changes, message in cases:
        with pytest.raises(PlanError, match=message):
            do_update_plan(plan, changes, org.counselor, "trying", plan.revision)
    with pytest.raises(PlanError, match="Say why"):
        do_update_plan(plan, {"phase": "middle"}, org.counselor, "  ", plan.revision)
    plan.refresh_from_db()
    assert plan.revision == 1 and not plan.changes.filter(action=ChangeAction.UPDATED).exists()


def test_a_draft_is_edited_only_by_its_own_counselors(org):
    intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    for outsider in (org.other_counselor, org.officer, org.administrator):
        with pytest.raises(PlanError, match="own counselors"):
            do_update_plan(plan, {"phase": "middle"}, outsider, "x", plan.revision)


# --- Approval -------------------------------------------------------------------------------------


@pytest.fixture
def courses():
    return {topic: course(topic) for topic in (Topic.LEGAL, Topic.MENTAL_HEALTH)}


def test_approval_by_someone_outside_the_caseload_is_refused(org, courses):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = draft_of(org.person)
    for user in (org.other_counselor, org.officer, org.administrator, org.learner):
        with pytest.raises(PlanError, match="own counselors"):
            do_approve_plan(plan, user)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.approved_at is None
    assert not Enrollment.objects.exists()
    assert not CounselingAppointment.objects.exists()
    assert not Assignment.objects.open().exists()


def test_approval_puts_the_interventions_in_place(org, courses):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = draft_of(org.person)
    report = do_approve_plan(plan, org.counselor, expected_revision=plan.revision)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert (plan.approved_by, plan.acknowledged_at) == (org.counselor, None)
    # courses by topic: the person is enrolled and the intervention linked
    enrolled = set(Enrollment.objects.filter(person=org.person).values_list("course_id", flat=True))
    assert {courses[Topic.LEGAL].pk, courses[Topic.MENTAL_HEALTH].pk} <= enrolled
    mental = plan.goals.get(domain=Domain.MENTAL_HEALTH)
    linked = mental.interventions.get(kind="course").enrollments.get()
    assert linked.course_id == courses[Topic.MENTAL_HEALTH].pk
    # the retest is a real assignment that opens after the interval, not at once
    retest = mental.interventions.get(kind="retest")
    assert retest.assignment.reason == AssignmentReason.PERIODIC
    opens = timezone.localdate() + dt.timedelta(days=90)
    assert retest.assignment.opens_on == opens
    assert retest.assignment.due == opens + dt.timedelta(days=14)
    assert retest.assignment.instrument_version.instrument.slug == "phq9"
    # counseling: six appointments two weeks apart with the approving counselor
    counseling = mental.interventions.get(kind="counseling")
    times = list(counseling.appointments.values_list("scheduled_at", flat=True))
    assert len(times) == 6
    assert times[1] - times[0] == dt.timedelta(days=14)
    assert set(counseling.appointments.values_list("counselor", flat=True)) == {org.counselor.pk}
    placed = [i for g in plan.goals.all() for i in g.interventions.all()]
    # a lecture series without any upcoming lecture waits (tests/plans/test_interventions.py)
    assert all(i.activated_at for i in placed if i.kind != "lecture_series")
    assert all(
        i.activated_at is None and "No upcoming lecture" in " ".join(report.warnings)
        for i in placed
        if i.kind == "lecture_series"
    )
    # the first review, the history, the person is told
    review = plan.reviews.get()
    assert review.held_at is None and review.scheduled_for > timezone.localdate()
    approved = plan.changes.get(action=ChangeAction.APPROVED)
    assert approved.diff["put_in_place"] == report.put_in_place
    note = Notification.objects.get(recipient=org.learner)
    assert note.url == "/plans/mine/"
    # not twice
    with pytest.raises(PlanError, match="Only a draft"):
        do_approve_plan(plan, org.counselor)


def test_approval_with_a_stale_revision_approves_nothing(org, courses):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = draft_of(org.person)
    seen = plan.revision
    intake(org.person, org.officer, employment="unemployed")  # the draft moves on
    with pytest.raises(StaleRevision):
        do_approve_plan(plan, org.counselor, expected_revision=seen)
    assert draft_of(org.person).status == PlanStatus.DRAFT


def test_a_retest_links_the_open_assignment_and_missing_courses_are_reported(org):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    already = assign(org.person, org.counselor, "phq9")
    plan = draft_of(org.person)
    report = do_approve_plan(plan, org.counselor)
    retest = Goal.objects.get(plan=plan, domain=Domain.MENTAL_HEALTH).interventions.get(
        kind="retest"
    )
    assert retest.assignment == already
    assert any("心理健康" in w or "mental" in w.lower() for w in report.warnings)
    unplaced = Goal.objects.get(plan=plan, domain=Domain.MENTAL_HEALTH).interventions.get(
        kind="course"
    )
    assert unplaced.activated_at is None


# --- The person -----------------------------------------------------------------------------------


def test_the_person_acknowledges_their_plan_once(org, courses):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = draft_of(org.person)
    with pytest.raises(PlanError, match="no longer in force"):
        do_acknowledge(plan, org.learner)
    do_approve_plan(plan, org.counselor)
    do_acknowledge(plan, org.learner)
    first = Plan.objects.get(pk=plan.pk).acknowledged_at
    assert first is not None
    do_acknowledge(plan, org.learner)
    assert Plan.objects.get(pk=plan.pk).acknowledged_at == first
    assert plan.changes.filter(action=ChangeAction.ACKNOWLEDGED, by=org.learner).count() == 1
    with pytest.raises(Http404):
        do_acknowledge(plan, org.other_learner)


# --- Reviews, revisions, appointments, closing --------------------------------------------------


@pytest.fixture
def approved(org, courses) -> Plan:
    """v1 in force: legal (participation), employment (intake) and mental health (PHQ-9)."""
    intake(org.person, org.officer, employment="unemployed")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = draft_of(org.person)
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    return plan


def test_a_review_needs_a_decision_for_every_open_goal(approved, org):
    goals = list(approved.goals.all())
    with pytest.raises(PlanError, match="Decide on every open goal"):
        do_record_review(approved, org.counselor, {goals[0].pk: "continue"})
    with pytest.raises(PlanError, match="Unknown decision"):
        do_record_review(approved, org.counselor, {g.pk: "shrug" for g in goals})
    with pytest.raises(PlanError, match="own counselors"):
        do_record_review(approved, org.other_counselor, {g.pk: "continue" for g in goals})
    assert not approved.reviews.filter(held_at__isnull=False).exists()


def test_review_decisions_close_adjust_and_continue_goals(approved, org):
    mental = approved.goals.get(domain=Domain.MENTAL_HEALTH)
    work = approved.goals.get(domain=Domain.EMPLOYMENT)
    legal = approved.goals.get(domain=Domain.LEGAL)
    decisions = {mental.pk: "adjust", work.pk: "close", legal.pk: "continue"}
    review, draft = do_record_review(
        approved, org.counselor, decisions, "going well", met={work.pk}
    )
    assert review.held_by == org.counselor and review.notes == "going well"
    for goal in (mental, work, legal):
        goal.refresh_from_db()
    assert (mental.status, work.status, legal.status) == (
        GoalStatus.ADJUSTED,
        GoalStatus.MET,
        GoalStatus.OPEN,
    )
    # the next review is scheduled
    assert approved.reviews.filter(held_at__isnull=True).count() == 1
    # the goal to adjust starts a new draft version carrying the active goals and their links
    assert draft.version == approved.version + 1 and draft.previous == approved
    carried = draft.goals.get(carried_from=mental)
    assert carried.status == GoalStatus.OPEN
    assert not draft.goals.filter(carried_from=work).exists()
    old_retest = mental.interventions.get(kind="retest")
    assert carried.interventions.get(kind="retest").assignment == old_retest.assignment
    # approving the revision closes v1 and moves the appointments with their intervention
    counseling = carried.interventions.get(kind="counseling")
    do_update_plan(
        draft,
        {"interventions_remove": [counseling.pk]},
        org.counselor,
        "weekly talks no longer needed",
        draft.revision,
    )
    do_approve_plan(draft, org.counselor)
    approved.refresh_from_db()
    assert approved.status == PlanStatus.CLOSED and "2" in approved.closed_reason
    # the plan's counseling is one series (plans.booking): it goes on under the counseling
    # still in the plan, not booked again, nothing cancelled
    talks = draft.goals.get(domain=Domain.LEGAL).interventions.get(kind="counseling")
    booked = CounselingAppointment.objects.filter(person=org.person)
    assert booked.count() == 6
    assert set(booked.values_list("intervention", flat=True)) == {talks.pk}
    assert not booked.filter(status=AppointmentStatus.CANCELLED).exists()


def test_a_review_follows_the_phase_of_supervision(approved, org):
    person = org.person
    person.supervision_start = timezone.localdate() - dt.timedelta(days=200)
    person.supervision_end = timezone.localdate() + dt.timedelta(days=400)
    person.save(update_fields=["supervision_start", "supervision_end"])
    Plan.objects.filter(pk=approved.pk).update(phase=Phase.INITIAL)
    approved.refresh_from_db()
    decisions = {g.pk: "continue" for g in approved.goals.all()}
    do_record_review(approved, org.counselor, decisions)
    approved.refresh_from_db()
    assert approved.phase == Phase.MIDDLE
    change = approved.changes.filter(action=ChangeAction.REVIEWED).get()
    assert change.diff["plan"] == {"phase": ["initial", "middle"]}


def test_new_needs_after_approval_start_a_new_version_only_when_a_level_changes(approved, org):
    retest = Goal.objects.get(plan=approved, domain=Domain.MENTAL_HEALTH).interventions.get(
        kind="retest"
    )
    answer_all(retest.assignment, PHQ9_MODERATE)  # the retest: same level, nothing to redraft
    do_review(do_submit(retest.assignment), org.counselor, "About the same.")
    assert not Plan.objects.filter(person=org.person, status=PlanStatus.DRAFT).exists()
    reviewed(org.person, org.counselor, PHQ9_SEVERE)
    draft = draft_of(org.person)
    assert draft.version == 2
    assert draft.needs["domains"]["mental_health"]["level"] == Level.HIGH
    assert draft.goals.filter(suggestion="mental_health:high:0").exists()
    assert draft.goals.filter(carried_from__isnull=False).count() == approved.goals.count()


def test_appointments_are_recorded_by_the_persons_counselor(approved, org):
    appointment = CounselingAppointment.objects.filter(person=org.person).first()
    with pytest.raises(PlanError, match="own counselors"):
        do_record_appointment(appointment, org.other_counselor, "attended")
    with pytest.raises(PlanError, match="attended, missed or cancelled"):
        do_record_appointment(appointment, org.counselor, "scheduled")
    do_record_appointment(appointment, org.counselor, "attended", "talked about work")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.recorded_by) == ("attended", org.counselor)
    assert approved.changes.filter(action=ChangeAction.APPOINTMENT).exists()


def test_notes_and_closing(approved, org):
    with pytest.raises(PlanError, match="empty"):
        do_add_note(approved, org.counselor, "   ")
    note = do_add_note(approved, org.counselor, "找到了一份临时工作")
    assert note.author == org.counselor
    with pytest.raises(PlanError, match="Say why"):
        do_close_plan(approved, org.counselor, "")
    do_close_plan(approved, org.counselor, "supervision ended")
    approved.refresh_from_db()
    assert approved.status == PlanStatus.CLOSED
    assert not CounselingAppointment.objects.filter(
        person=org.person, status=AppointmentStatus.SCHEDULED
    ).exists()
    with pytest.raises(PlanError, match="already closed"):
        do_close_plan(approved, org.counselor, "again")


def test_history_and_notes_are_append_only(approved, org):
    change = approved.changes.first()
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        PlanChange.objects.filter(plan=approved).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        PlanChange.objects.filter(plan=approved).delete()
    note = do_add_note(approved, org.counselor, "kept")
    with pytest.raises(AppendOnlyError):
        note.delete()


def test_the_subject_access_export_holds_the_plans(approved, org):
    data = collect_plan_data(org.person)["plans"]
    (plan,) = data["plans"]
    assert plan["status"] == "approved" and plan["goals"]
    assert data["appointments"]
    assert data["intake_facts"][0]["employment"] == "unemployed"
    assert [h["action"] for h in plan["history"]][-1] == "drafted"


def test_a_malformed_field_is_named_with_its_goal(org):
    intake(org.person, org.officer, employment="unemployed")
    plan = draft_of(org.person)
    goal = plan.goals.first()
    with pytest.raises(PlanError, match=f"Goal “{goal.title}”: Due date: Enter a date"):
        do_update_plan(
            plan, {"goals_update": [{"id": goal.pk, "due": ""}]}, org.counselor, "x", plan.revision
        )
    with pytest.raises(PlanError, match="Goal “新目标”: Need area"):
        do_update_plan(
            plan,
            {
                "goals_add": [
                    {"domain": "astrology", "title": "新目标", "target": "t", "due": "2027-01-01"}
                ]
            },
            org.counselor,
            "x",
            plan.revision,
        )
