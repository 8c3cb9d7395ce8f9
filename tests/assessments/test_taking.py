from __future__ import annotations

import re

import pytest
from django.http import Http404
from django.urls import reverse

from assessments.models import Alert, Assignment, AssignmentStatus, Response, Result
from assessments.scoring import ENGINE_VERSION
from assessments.taking import (
    AlreadySubmitted,
    AssessmentError,
    IncompleteResponse,
    access_assignment_for_learner,
    answers_of,
    do_save_answer,
    do_submit,
)
from people.privacy import do_acknowledge
from tests.assessments.helpers import answer_all, assign, submitted
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

BAND_WORDS = ("Minimal", "Mild", "Moderate", "Severe", "severe", "Total score", "depress")


@pytest.fixture
def learner_client(client, org):
    do_acknowledge(org.person)
    client.force_login(org.learner)
    client.cookies["django_language"] = "en"
    return client


def take_url(assignment) -> str:
    return reverse("assessments_take", args=[assignment.pk])


def test_every_answer_is_saved_as_given_and_the_page_resumes_at_the_first_gap(org, learner_client):
    assignment = assign(org.person, org.counselor)
    do_save_answer(assignment, 1, 2)
    do_save_answer(assignment, 2, 0)
    do_save_answer(assignment, 4, 3)
    assert answers_of(assignment) == [2, 0, None, 3, None, None, None, None, None]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_PROGRESS

    page = learner_client.get(take_url(assignment))  # a closed tab comes back here
    assert page.status_code == 200
    assert page.context["number"] == 3
    assert b'data-testid="progress"' in page.content
    assert page.context["answered"] == 3


def test_a_later_answer_to_the_same_item_replaces_the_first(org):
    assignment = assign(org.person, org.counselor)
    do_save_answer(assignment, 1, 2)
    do_save_answer(assignment, 1, 1)
    assert answers_of(assignment)[0] == 1


@pytest.mark.parametrize(
    ("item", "option", "message"),
    [
        (0, 1, "there is no item 0"),
        (10, 1, "there is no item 10"),
        (1, 4, "item 1 has no option 4"),
        (1, -1, "item 1 has no option -1"),
        ("x", 1, "must be numbers"),
        (1, None, "must be numbers"),
        (True, 1, "must be numbers"),
    ],
)
def test_a_bad_item_or_option_is_a_clear_error_and_nothing_is_stored(org, item, option, message):
    assignment = assign(org.person, org.counselor)
    with pytest.raises(AssessmentError, match=message):
        do_save_answer(assignment, item, option)
    assert not Response.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.OPEN


def test_the_page_rejects_an_out_of_range_option_without_storing_it(org, learner_client):
    assignment = assign(org.person, org.counselor)
    response = learner_client.post(take_url(assignment), {"item": "1", "option": "9"})
    assert response.status_code == 400
    assert b'data-testid="answer-error"' in response.content
    assert not Response.objects.exists()


def test_posting_an_option_saves_it_and_moves_to_the_next_item(org, learner_client):
    assignment = assign(org.person, org.counselor)
    response = learner_client.post(take_url(assignment), {"item": "1", "option": "2"})
    assert response.status_code == 302
    assert response["Location"].endswith("?item=2")
    assert answers_of(assignment)[0] == 2


def test_another_persons_assignment_is_404_for_lookups_answers_and_submission(
    org, client, learner_client
):
    theirs = assign(org.other_person, org.other_counselor)
    with pytest.raises(Http404):
        access_assignment_for_learner(org.learner, theirs.pk)
    assert learner_client.get(take_url(theirs)).status_code == 404
    assert learner_client.post(take_url(theirs), {"item": "1", "option": "1"}).status_code == 404
    assert learner_client.post(take_url(theirs), {"submit": "1"}).status_code == 404
    assert not Response.objects.exists()


def test_staff_have_no_questionnaires_to_take(org, client):
    assignment = assign(org.person, org.counselor)
    login_staff(client, org.counselor)
    assert client.get(take_url(assignment)).status_code == 404
    assert client.get(reverse("assessments_mine")).status_code == 404


def test_a_learner_is_asked_to_read_the_privacy_notice_before_the_first_questionnaire(org, client):
    assignment = assign(org.person, org.counselor)
    client.force_login(org.learner)
    response = client.get(take_url(assignment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("privacy_notice"))


def test_submission_scores_once_with_the_versions_it_records(org):
    assignment = assign(org.person, org.counselor)
    answer_all(assignment, [1, 1, 2, 0, 0, 1, 3, 0, 0])
    result = do_submit(assignment)
    assert result.engine_version == ENGINE_VERSION
    assert result.instrument_version == assignment.instrument_version
    assert result.scales["total"] == {"raw": 8, "score": 8, "band": "mild"}
    assert result.max_severity == 1
    assert result.critical_items == []
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    assert Response.objects.get().submitted_at is not None


def test_a_double_submit_is_a_clear_error_and_leaves_one_result(org):
    assignment = assign(org.person, org.counselor)
    answer_all(assignment, [0] * 9)
    do_submit(assignment)
    with pytest.raises(AlreadySubmitted):
        do_submit(Assignment.objects.get(pk=assignment.pk))
    with pytest.raises(AlreadySubmitted):
        do_save_answer(assignment, 1, 1)
    assert Result.objects.count() == 1


def test_an_incomplete_response_is_refused_naming_the_missing_items(org):
    assignment = assign(org.person, org.counselor)
    answer_all(assignment, [0] * 7)
    with pytest.raises(IncompleteResponse) as excinfo:
        do_submit(assignment)
    assert excinfo.value.missing == [8, 9]
    assert not Result.objects.exists()


def test_a_submission_killed_midway_leaves_no_partial_rows(org, monkeypatch):
    assignment = assign(org.person, org.counselor)
    answer_all(assignment, [0] * 8 + [2])  # item 9 is critical: an alert follows the result

    def boom(result):
        raise RuntimeError("killed after the result was written")

    monkeypatch.setattr("assessments.taking._raise_alert", boom)
    with pytest.raises(RuntimeError):
        do_submit(assignment)
    assert not Result.objects.exists()
    assert not Alert.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_PROGRESS
    assert Response.objects.get().submitted_at is None
    monkeypatch.undo()
    assert do_submit(assignment).critical_items == [9]  # and it can be sent again


def test_a_second_open_assignment_of_the_same_instrument_is_refused(org):
    assign(org.person, org.counselor)
    with pytest.raises(AssessmentError, match="already assigned"):
        assign(org.person, org.counselor)


def test_the_learner_answers_on_the_phone_and_never_sees_a_score(org, learner_client):
    assignment = assign(org.person, org.counselor)
    listing = learner_client.get(reverse("assessments_mine"))
    assert f'data-testid="questionnaire-{assignment.pk}"'.encode() in listing.content
    home = learner_client.get("/")
    assert b'data-testid="dashboard-questionnaires"' in home.content

    for number, option in enumerate([3, 3, 3, 3, 3, 3, 3, 3, 1], start=1):
        page = learner_client.get(take_url(assignment))
        assert page.context["number"] == number
        learner_client.post(take_url(assignment), {"item": str(number), "option": str(option)})
    review = learner_client.get(take_url(assignment))
    assert b'data-testid="submit-screen"' in review.content
    assert b"screening, not a diagnosis" in review.content
    done = learner_client.post(take_url(assignment), {"submit": "1"}, follow=True)
    text = done.content.decode()
    # item 9 answered: the help page, not a plain thank-you (tests/assessments/test_support.py)
    assert 'data-testid="support-page"' in text
    assert Result.objects.get().scales["total"]["score"] == 25
    for page in (text, learner_client.get("/").content.decode()):
        # the score nowhere in what the person reads (not the markup: a CSRF token may hold
        # "25"; not a date such as 2026-12-25 or 12月25日)
        visible = re.sub(r"<(script|style)\b.*?</\1>|<[^>]*>", " ", page, flags=re.S)
        assert not re.search(r"(?<![\d-])25(?![\d-]|\s*日)", visible)
        for word in BAND_WORDS:
            assert word not in page
    home = learner_client.get("/")
    assert b'data-testid="dashboard-no-questionnaires"' in home.content


def test_the_learner_sees_only_the_summary_a_counselor_released(org, learner_client):
    from assessments.taking import do_review

    result = submitted(org.person, [1] * 9, by=org.counselor)
    page = learner_client.get(reverse("assessments_mine"))
    assert b"released-summaries" not in page.content
    do_review(result, org.counselor, "Mild symptoms, PHQ-9 = 9.", "Let us talk about sleep.")
    page = learner_client.get(reverse("assessments_mine")).content.decode()
    assert "Let us talk about sleep." in page
    assert "PHQ-9 = 9" not in page
    assert "Mild" not in page
