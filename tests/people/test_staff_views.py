from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import login_staff, make_person

pytestmark = pytest.mark.django_db


def test_counselor_list_shows_only_caseload(client, org):
    login_staff(client, org.counselor)
    response = client.get(reverse("people_person_list"))
    assert response.status_code == 200
    assert org.person.case_number in response.text
    assert org.other_person.case_number not in response.text


def test_person_outside_caseload_is_404_by_url(client, org):
    login_staff(client, org.counselor)
    url = reverse("people_person_detail", args=[org.other_person.pk])
    assert client.get(url).status_code == 404
    own = reverse("people_person_detail", args=[org.person.pk])
    assert client.get(own).status_code == 200


@pytest.mark.parametrize("role", ["officer", "administrator", "counselor"])
def test_staff_can_open_own_persons(client, org, role):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("people_person_detail", args=[org.person.pk]))
    assert response.status_code == 200
    assert org.person.full_name in response.text


def test_other_office_officer_gets_404(client, org):
    login_staff(client, org.other_officer)
    assert client.get(reverse("people_person_detail", args=[org.person.pk])).status_code == 404


def test_learner_cannot_enter_admin(client, org):
    login_staff(client, org.learner)
    response = client.get(reverse("people_person_list"))
    assert response.status_code in (302, 403)
    assert org.person.case_number not in response.text


def test_lecturer_list_is_empty(client, org):
    login_staff(client, org.lecturer)
    response = client.get(reverse("people_person_list"))
    assert response.status_code == 200
    assert org.person.case_number not in response.text


def test_anonymous_is_sent_to_login(client, org):
    response = client.get(reverse("people_person_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_search_stays_scoped(client, org):
    login_staff(client, org.counselor)
    response = client.get(reverse("people_person_list"), {"q": org.other_person.case_number})
    assert f">{org.other_person.case_number}</a>" not in response.text
    assert "没有符合条件的人员" in response.text


def test_person_list_query_count_is_fixed(client, org, django_assert_max_num_queries):
    for _ in range(40):
        make_person(org.east, case_officer=org.officer)
    login_staff(client, org.officer)
    # 16: the menu's pending leave-request count is one query on every admin page, the
    # office filter's choices one more
    with django_assert_max_num_queries(16):
        response = client.get(reverse("people_person_list"))
    assert response.status_code == 200
    assert response.text.count("/admin/people/") >= 40
