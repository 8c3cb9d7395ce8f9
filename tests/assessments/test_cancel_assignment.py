"""Cancelling an assignment: only a pending one, with a reason, logged; answers stay stored
and can no longer be sent."""

from __future__ import annotations

import pytest

from assessments.models import Assignment, AssignmentStatus, Response
from assessments.services import AssignmentNotPending, do_cancel_assignment
from assessments.taking import AlreadySubmitted, AssessmentError, do_save_answer, do_submit
from audit.models import AccessEvent, Action
from tests.assessments.helpers import answer_all, assign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_pending_assignment_is_cancelled_and_logged(org):
    assignment = assign(org.person, org.counselor)
    do_cancel_assignment(assignment, by=org.counselor, reason="retest dropped from the plan")
    assert assignment.status == AssignmentStatus.CANCELLED
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.CANCELLED
    event = AccessEvent.objects.get(action=Action.CHANGE, object_id=str(assignment.pk))
    assert (event.user_id, event.person_id) == (org.counselor.pk, org.person.pk)
    assert "retest dropped from the plan" in event.detail and "was open" in event.detail
    assert not Assignment.objects.filter(person=org.person).open().exists()


def test_an_assignment_in_progress_is_cancelled_and_its_answers_kept(org):
    assignment = assign(org.person, org.counselor)
    do_save_answer(assignment, 1, 2)
    do_cancel_assignment(assignment, by=None, reason="plan closed")
    assert Response.objects.get(assignment=assignment).answers[0] == 2
    with pytest.raises(AlreadySubmitted):
        do_save_answer(assignment, 2, 1)
    with pytest.raises(AssessmentError, match="cancelled"):
        do_submit(assignment)
    event = AccessEvent.objects.get(action=Action.CHANGE, object_id=str(assignment.pk))
    assert event.username == "system"


def test_cancelling_twice_or_after_submission_is_refused_and_changes_nothing(org):
    assignment = assign(org.person, org.counselor)
    do_cancel_assignment(assignment, by=org.counselor, reason="no longer needed")
    with pytest.raises(AssignmentNotPending, match="already been cancelled"):
        do_cancel_assignment(assignment, by=org.counselor, reason="again")
    answered = assign(org.person, org.counselor)
    answer_all(answered, [1] * 9)
    do_submit(answered)
    with pytest.raises(AssignmentNotPending, match="already been answered"):
        do_cancel_assignment(answered, by=org.counselor, reason="too late")
    assert Assignment.objects.get(pk=answered.pk).status == AssignmentStatus.SUBMITTED
    logged = AccessEvent.objects.filter(action=Action.CHANGE, detail__contains="cancelled")
    assert logged.count() == 1


def test_a_reason_is_required(org):
    assignment = assign(org.person, org.counselor)
    with pytest.raises(ValueError, match="reason"):
        do_cancel_assignment(assignment, by=org.counselor, reason="  ")
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.OPEN
