"""The one-item-per-screen page and the result page follow the skip rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from assessments.models import Assignment, Instrument, InstrumentVersion, Response, Result
from assessments.report import history, item_answers
from assessments.schema import InstrumentDef
from assessments.services import canonical_definition, definition_checksum, do_load_instrument
from assessments.taking import answers_of, do_assign, do_save_answer, do_submit
from people.privacy import do_acknowledge
from tests.assessments.conftest import load_def, raw_file
from tests.assessments.helpers import assign, stored_result
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, org):
    do_acknowledge(org.person)
    client.force_login(org.learner)
    client.cookies["django_language"] = "zh-hans"
    return client


def take_url(assignment, query: str = "") -> str:
    return reverse("assessments_take", args=[assignment.pk]) + query


def answer(client, assignment, item: int, option: int) -> str:
    response = client.post(take_url(assignment), {"item": item, "option": option})
    assert response.status_code == 302
    return response["Location"]


def test_never_on_audit_item_1_goes_straight_to_item_9_and_back(org, learner_client):
    assignment = assign(org.person, org.counselor, slug="audit")
    assert answer(learner_client, assignment, 1, 0) == take_url(assignment, "?item=9")
    page = learner_client.get(take_url(assignment, "?item=9"))
    assert page.context["previous"] == 1
    assert page.context["answered"] == 8  # item 1 and the seven skipped items
    assert answer(learner_client, assignment, 9, 1) == take_url(assignment, "?item=10")
    assert answer(learner_client, assignment, 10, 0) == take_url(assignment, "?review=1")
    review = learner_client.get(take_url(assignment, "?review=1"))
    assert review.context["missing"] == []
    assert review.context["last"] == 10
    response = learner_client.post(take_url(assignment), {"submit": "1"})
    assert response.status_code == 302
    result = assignment.response.result
    assert result.scales["total"]["raw"] == 2  # item 9 option 1 scores 2; skipped items 0


def test_a_hidden_item_is_never_shown_even_when_asked_for(org, learner_client):
    assignment = assign(org.person, org.counselor, slug="k10")
    do_save_answer(assignment, 1, 0)
    do_save_answer(assignment, 2, 0)  # none of the time: item 3 is skipped
    page = learner_client.get(take_url(assignment, "?item=3"))
    assert page.context["number"] == 4
    assert page.context["previous"] == 2


def test_an_answer_that_hides_items_clears_theirs(org):
    assignment = assign(org.person, org.counselor, slug="audit")
    for number, option in [(1, 2), (2, 1), (3, 1), (4, 2)]:
        do_save_answer(assignment, number, option)
    do_save_answer(assignment, 1, 0)  # changed to "Never"
    assert answers_of(assignment) == [0] + [None] * 9


def test_submit_needs_only_the_shown_items(org):
    assignment = assign(org.person, org.counselor, slug="k10")
    for number, option in [(1, 1), (2, 0), (4, 1), (5, 0), (7, 1), (8, 1), (9, 1), (10, 1)]:
        do_save_answer(assignment, number, option)
    result = do_submit(assignment)
    assert result.scales["total"]["raw"] == 2 + 1 + 1 + 2 + 1 + 1 + 2 + 2 + 2 + 2


def test_the_result_page_shows_skipped_items_as_skipped(org, client):
    assignment = assign(org.person, org.counselor, slug="k10")
    for number, option in [(1, 1), (2, 0), (4, 1), (5, 0), (7, 1), (8, 1), (9, 1), (10, 1)]:
        do_save_answer(assignment, number, option)
    result = do_submit(assignment)
    rows = item_answers(result)
    assert (rows[2].option, rows[2].value) == ("已跳过", 1)
    assert (rows[1].option, rows[1].value) != ("已跳过", 1)
    login_staff(client, org.counselor)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("assessments_result_detail", args=[result.pk])).content.decode()
    assert "跳过" in html


def test_history_keeps_results_of_another_scoring_series_apart(org):
    """Rosenberg v1 (0-30) results are neither charted nor compared with v2 (10-40)."""
    after = stored_result(org.person, [0] * 10, datetime(2026, 3, 5, tzinfo=UTC), "rosenberg")
    same_series = stored_result(org.person, [1] * 10, datetime(2026, 4, 5, tzinfo=UTC), "rosenberg")
    old_data = raw_file("rosenberg")
    old_data.update(version=1, scoring_series=1)
    old = InstrumentDef.model_validate(old_data)
    version_1 = InstrumentVersion.objects.create(
        instrument=Instrument.objects.get(slug="rosenberg"),
        version=1,
        definition=canonical_definition(old),
        checksum=definition_checksum(old),
        published=True,
    )
    at = datetime(2026, 1, 5, tzinfo=UTC)
    assignment = Assignment.objects.create(
        person=org.person, instrument_version=version_1, status="submitted", assigned_at=at
    )
    response = Response.objects.create(
        assignment=assignment, answers=[0] * 10, started_at=at, submitted_at=at
    )
    before = Result.objects.create(
        response=response,
        person=org.person,
        instrument_version=version_1,
        engine_version="1.0",
        scales={"total": {"raw": 15, "score": 15, "band": None}},
        critical_items=[],
        created_at=at,
    )
    assert [r.pk for r in history(after)] == [after.pk, same_series.pk]
    assert [r.pk for r in history(before)] == [before.pk]


def version_1_of(slug: str, **changes) -> InstrumentDef:
    data = raw_file(slug)
    data.update(version=1, **changes)
    data.pop("notes", None)
    if slug == "sds":
        data["critical_items"] = [{"item": 19, "op": ">=", "option": 2}]  # the old threshold
    return InstrumentDef.model_validate(data)


def test_a_new_version_takes_over_open_assignments_whose_answers_mean_the_same(org):
    """SDS v1 flagged item 19 only from 相当多时间; an SDS handed out before v2 was loaded
    is scored with v2 and raises the alert from 小部分时间."""
    do_load_instrument(version_1_of("sds"))
    assignment = do_assign("sds", org.person, org.counselor)
    for number in range(1, 21):
        do_save_answer(assignment, number, 1 if number == 19 else 0)
    do_load_instrument(load_def("sds"))
    assignment.refresh_from_db()
    assert assignment.instrument_version.version == 2
    assert do_submit(assignment).critical_items == [19]


def test_open_assignments_stay_when_the_items_changed_order_and_submitted_ones_always_stay(org):
    old = raw_file("rosenberg")
    old["items"] = list(reversed(old["items"]))
    for number, item in enumerate(old["items"], 1):
        item["number"] = number
    do_load_instrument(version_1_of("rosenberg", items=old["items"], scoring_series=1))
    open_one = do_assign("rosenberg", org.person, org.counselor)
    do_load_instrument(version_1_of("sds"))
    sent = do_assign("sds", org.other_person, org.counselor)
    for number in range(1, 21):
        do_save_answer(sent, number, 0)
    do_submit(sent)
    do_load_instrument(load_def("rosenberg"))
    do_load_instrument(load_def("sds"))
    open_one.refresh_from_db()
    sent.refresh_from_db()
    assert open_one.instrument_version.version == 1
    assert sent.instrument_version.version == 1
