"""The questionnaire review queue on Wagtail's IndexView: the queue's order with critical
answers on top, scope, search, filters, ordering, the administrators' logged export and the
empty state."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from assessments.taking import do_review
from audit.models import AccessEvent, Action
from tests.assessments.helpers import submitted
from tests.factories import login_staff, make_person

pytestmark = pytest.mark.django_db

URL = "/admin/assessments/queue/"


def _caseload_person(org, office=None):
    return make_person(office or org.east, counselors=(org.counselor,))


def _rows(response) -> list[int]:
    """The result ids listed, in the order shown."""
    html = response.text.split('data-testid="review-queue"', 1)[-1]
    return [int(chunk.split('"', 1)[0]) for chunk in html.split('data-testid="queue-row-')[1:]]


def _grant_view_result(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="assessments", codename="view_result")
    )


def test_the_url_and_its_results_are_kept():
    assert reverse("assessments_review_queue") == URL
    assert reverse("assessments_review_queue_results") == URL + "results/"


def test_another_counselor_sees_nothing_of_this_caseload_whatever_the_filters(client, org):
    result = submitted(org.person, [3] * 8 + [0])
    login_staff(client, org.other_counselor)
    for params in ({}, {"q": org.person.case_number}, {"office": org.east.pk}, {"critical": "1"}):
        for url in (URL, reverse("assessments_review_queue_results")):
            response = client.get(url, params)
            assert response.status_code == 200
            assert result.pk not in _rows(response), (url, params)
            assert f'"queue-row-{result.pk}"' not in response.text


def test_the_office_filter_offers_only_the_callers_own_offices(client, org):
    submitted(org.person, [1] * 8 + [0])
    login_staff(client, org.counselor)
    html = client.get(URL).text
    assert f'value="{org.east.pk}"' in html
    assert f'value="{org.west.pk}"' not in html  # only other_counselor's persons live there


def test_search_by_name_and_case_number(client, org):
    first = submitted(org.person, [1] * 8 + [0])
    other = _caseload_person(org)
    second = submitted(other, [1] * 8 + [0])
    login_staff(client, org.counselor)
    assert _rows(client.get(URL, {"q": other.case_number})) == [second.pk]
    assert first.pk in _rows(client.get(URL, {"q": org.person.full_name}))
    results = client.get(reverse("assessments_review_queue_results"), {"q": other.case_number})
    assert f'"queue-row-{second.pk}"' in results.text
    assert f'"queue-row-{first.pk}"' not in results.text


def test_critical_filter_and_office_filter(client, org):
    plain = submitted(org.person, [1] * 8 + [0])
    critical = submitted(_caseload_person(org), [0] * 8 + [1])
    west = submitted(_caseload_person(org, org.west), [1] * 8 + [0])
    login_staff(client, org.counselor)
    assert _rows(client.get(URL, {"critical": "1"})) == [critical.pk]
    assert set(_rows(client.get(URL, {"office": org.west.pk}))) == {west.pk}
    assert set(_rows(client.get(URL, {"office": org.east.pk}))) == {plain.pk, critical.pk}
    # a value not understood is dropped, the other filters still apply
    assert _rows(client.get(URL, {"office": "x'--", "critical": "1", "ordering": "nope"})) == [
        critical.pk
    ]


def test_critical_answers_stay_first_whatever_the_column_chosen(client, org):
    names = iter(["甲", "乙", "丙"])
    persons = [_caseload_person(org) for _ in range(3)]
    for person in persons:
        person.full_name = next(names)
        person.save(update_fields=["full_name"])
    mild = submitted(persons[0], [1] * 8 + [0])
    critical = submitted(persons[1], [0] * 8 + [1])
    severe = submitted(persons[2], [3] * 8 + [0])
    login_staff(client, org.counselor)
    page = client.get(URL)
    assert _rows(page) == [critical.pk, severe.pk, mild.pk]
    assert "3 items" not in page.text and "3 结果" in page.text  # the count, in Chinese
    up = _rows(client.get(URL, {"ordering": "created_at"}))
    down = _rows(client.get(URL, {"ordering": "-created_at"}))
    assert up == [critical.pk, mild.pk, severe.pk]
    assert down == [critical.pk, severe.pk, mild.pk]
    assert "ordering=-created_at" in client.get(URL, {"ordering": "created_at"}).text


def test_ordering_is_stable_when_the_column_ties(client, org):
    person = _caseload_person(org)
    results = [submitted(person, [1] * 8 + [0]) for _ in range(3)]
    login_staff(client, org.counselor)
    # one person: every row ties on the name, the pk decides
    shown = _rows(client.get(URL, {"ordering": "person__full_name"}))
    assert shown == sorted(r.pk for r in results)
    assert _rows(client.get(URL, {"ordering": "-person__full_name"})) == shown


def test_a_signed_review_leaves_the_queue(client, org):
    result = submitted(org.person, [1] * 8 + [0])
    login_staff(client, org.counselor)
    assert _rows(client.get(URL)) == [result.pk]
    do_review(result, org.counselor, "Seen.")
    assert _rows(client.get(URL)) == []


def test_the_empty_queue_says_what_comes_next(client, org):
    login_staff(client, org.counselor)
    html = client.get(URL).text
    assert 'data-testid="queue-empty"' in html
    assert "问卷" in html.split('data-testid="queue-empty"', 1)[1].split("</p>", 1)[0]
    assert 'data-testid="assign-link"' in html  # the next step: assign a questionnaire


def test_the_export_is_logged_and_for_administrators_only(client, org):
    submitted(org.person, [3] * 8 + [0])
    org.other_person.full_name = "=HYPERLINK(1)"
    org.other_person.save(update_fields=["full_name"])
    submitted(org.other_person, [0] * 8 + [1])
    _grant_view_result(org.administrator)
    login_staff(client, org.administrator)
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["矫正对象", "矫正编号"]
    assert rows[1][0] == "'=HYPERLINK(1)"  # critical first, formula-safe
    assert org.person.case_number in body and "重度" in body and "<" not in body
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    login_staff(client, org.counselor)
    refused = client.get(URL, {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


@pytest.mark.parametrize("role", ["officer", "lecturer", "administrator"])
def test_staff_who_never_see_results_are_refused_the_list_and_its_results(client, org, role):
    login_staff(client, getattr(org, role))
    for url in (URL, reverse("assessments_review_queue_results")):
        assert client.get(url).status_code in (302, 403)


@pytest.mark.parametrize("extra", [2, 60])
def test_the_queue_runs_a_fixed_number_of_queries(
    client, org, extra, django_assert_max_num_queries
):
    """A short queue (one page) and a long one (two pages) cost the same: the count, the page's
    rows with person, office, questionnaire and alert, the office filter's choices."""
    for index in range(extra):
        person = org.person if index % 2 else _caseload_person(org)
        submitted(person, [0] * 8 + [1] if index % 7 == 0 else [1] * 8 + [0])
    login_staff(client, org.counselor)
    client.get(URL)  # warm the session and the unread count
    with django_assert_max_num_queries(13):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(_rows(response)) == min(extra, 50)
