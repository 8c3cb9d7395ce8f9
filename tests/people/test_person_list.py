"""The supervised-persons list on Wagtail's IndexView: scope, search, filters, ordering and
the administrators' logged export."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from people.models import Category, PersonStatus
from tests.factories import login_staff, make_person

pytestmark = pytest.mark.django_db

URL = "/admin/people/"


def _rows(response) -> list[str]:
    """The case numbers of the listed persons, in the order shown."""
    html = response.text
    found = []
    for chunk in html.split('data-testid="person-list"', 1)[-1].split("<tr")[2:]:
        found.append(chunk.split("</a>", 1)[0].rsplit(">", 1)[-1].strip())
    return found


def test_url_is_kept():
    assert reverse("people_person_list") == URL
    assert reverse("people_person_list_results") == URL + "results/"


@pytest.mark.parametrize(
    ("role", "sees_other_office"),
    [("officer", False), ("counselor", False), ("administrator", True)],
)
def test_each_role_sees_its_own_persons(client, org, role, sees_other_office):
    login_staff(client, getattr(org, role))
    response = client.get(URL)
    assert response.status_code == 200
    assert org.person.case_number in _rows(response)
    assert (org.other_person.case_number in _rows(response)) is sees_other_office


def test_an_officer_of_another_office_sees_nothing_of_this_office(client, org):
    login_staff(client, org.other_officer)
    for params in ({}, {"q": org.person.case_number}, {"office": org.east.pk}):
        response = client.get(URL, params)
        assert response.status_code == 200
        assert org.person.case_number not in _rows(response), params
    results = client.get(reverse("people_person_list_results"), {"q": org.person.case_number})
    assert org.person.case_number not in results.text


def test_office_filter_offers_only_own_offices(client, org):
    login_staff(client, org.other_officer)
    response = client.get(URL)
    assert org.west.name in response.text
    assert f'value="{org.east.pk}"' not in response.text


def test_search_by_name_and_case_number(client, org):
    extra = make_person(org.east, case_officer=org.officer)
    login_staff(client, org.officer)
    assert _rows(client.get(URL, {"q": extra.case_number})) == [extra.case_number]
    by_name = _rows(client.get(URL, {"q": extra.full_name}))
    assert extra.case_number in by_name
    assert org.person.case_number not in by_name or org.person.full_name == extra.full_name


def test_filters_by_status_and_category(client, org):
    ended = make_person(org.east, case_officer=org.officer)
    ended.status = PersonStatus.ENDED
    ended.category = Category.STRICT
    ended.save(update_fields=["status", "category"])
    login_staff(client, org.officer)
    assert _rows(client.get(URL, {"status": PersonStatus.ENDED})) == [ended.case_number]
    strict = _rows(client.get(URL, {"category": Category.STRICT}))
    assert ended.case_number in strict
    assert org.person.case_number not in strict or org.person.category == Category.STRICT


def test_a_bad_filter_value_is_ignored_not_an_error(client, org):
    login_staff(client, org.officer)
    response = client.get(URL, {"status": "nonsense", "office": "x", "ordering": "password"})
    assert response.status_code == 200
    assert org.person.case_number in _rows(response)


def test_ordering_by_column_header(client, org):
    for _ in range(3):
        make_person(org.east, case_officer=org.officer)
    login_staff(client, org.officer)
    up = _rows(client.get(URL, {"ordering": "case_number"}))
    down = _rows(client.get(URL, {"ordering": "-case_number"}))
    assert up == sorted(up)
    assert down == list(reversed(up))
    assert "ordering=-case_number" in client.get(URL, {"ordering": "case_number"}).text


def test_codes_show_as_words_and_headers_in_chinese(client, org):
    login_staff(client, org.officer)
    text = client.get(URL).text
    assert org.person.get_category_display() in text
    assert org.person.get_status_display() in text
    for header in ("矫正编号", "姓名", "矫正期满日期"):
        assert header in text, header


def test_export_is_the_administrators_and_is_logged(client, org):
    login_staff(client, org.administrator)
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["矫正编号", "姓名"]
    numbers = [row[0] for row in rows[1:]]
    assert org.person.case_number in numbers
    assert org.person.get_category_display() in rows[1 + numbers.index(org.person.case_number)]
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    assert client.get(URL, {"export": "xlsx"}).status_code == 200


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer"])
def test_export_is_refused_to_other_roles(client, org, role):
    login_staff(client, getattr(org, role))
    response = client.get(URL, {"export": "csv"})
    assert response.status_code in (302, 403)
    assert not response.get("Content-Disposition")


def test_empty_list_says_what_to_do(client, org):
    login_staff(client, org.lecturer)
    assert "请联系管理员" in client.get(URL).text
