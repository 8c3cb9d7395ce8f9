"""The staff accounts list on Wagtail's IndexView: the administrator's scope, search, filters
offering only the caller's own offices, ordering, the logged export and the empty state."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from people.models import Office, OfficeKind
from people.roles import Role
from tests.factories import login_staff, make_totp_device, make_user

pytestmark = pytest.mark.django_db

URL = "/admin/people/staff/"


def _rows(response) -> list[int]:
    """The account ids listed, in the order shown."""
    html = response.text.split('data-testid="staff-list"', 1)[-1]
    return [int(chunk.split('"', 1)[0]) for chunk in html.split('data-testid="staff-')[1:]]


def test_the_url_and_its_results_are_kept():
    assert reverse("people_staff_list") == URL
    assert reverse("people_staff_list_results") == URL + "results/"


def test_only_the_administrators_scope_whatever_the_search(client, org):
    other_bureau = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    stranger = make_user("stranger", Role.OFFICER, office=other_bureau)
    login_staff(client, org.administrator)
    for params in ({}, {"q": "stranger"}, {"office": other_bureau.pk}, {"role": Role.OFFICER}):
        for url in (URL, reverse("people_staff_list_results")):
            rows = _rows(client.get(url, params))
            assert stranger.pk not in rows and org.learner.pk not in rows, (url, params)
    assert org.officer.pk in _rows(client.get(URL))


def test_the_office_filter_offers_only_the_callers_own_offices(client, org):
    other_bureau = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    login_staff(client, org.administrator)
    html = client.get(URL).text
    assert f'value="{org.east.pk}"' in html and f'value="{other_bureau.pk}"' not in html


def test_search_by_sign_in_or_real_name(client, org):
    org.counselor.name = "王晓红"
    org.counselor.save(update_fields=["name"])
    login_staff(client, org.administrator)
    assert _rows(client.get(URL, {"q": "晓红"})) == [org.counselor.pk]
    assert _rows(client.get(URL, {"q": "other_officer"})) == [org.other_officer.pk]


def test_filters_by_role_office_and_authenticator(client, org):
    make_totp_device(org.counselor)
    login_staff(client, org.administrator)  # the administrator's own device too
    officers = _rows(client.get(URL, {"role": Role.OFFICER}))
    assert set(officers) == {org.officer.pk, org.other_officer.pk}
    assert _rows(client.get(URL, {"office": org.west.pk})) == [org.other_officer.pk]
    with_app = set(_rows(client.get(URL, {"authenticator": "yes"})))
    assert {org.counselor.pk, org.administrator.pk} <= with_app
    assert org.lecturer.pk not in with_app
    assert org.lecturer.pk in _rows(client.get(URL, {"authenticator": "no"}))
    # a value not understood is dropped, the other filters still apply
    assert set(_rows(client.get(URL, {"role": "superuser", "office": org.west.pk}))) == {
        org.other_officer.pk
    }


def test_ordering_is_stable_and_by_column(client, org):
    for _ in range(3):
        make_user(None, Role.LECTURER, name="同名讲师")
    login_staff(client, org.administrator)
    up = _rows(client.get(URL, {"q": "同名讲师", "ordering": "name"}))
    assert up == sorted(up)  # every row ties on the name: the pk decides
    assert _rows(client.get(URL, {"ordering": "username"}))[0] == org.administrator.pk
    shown = client.get(URL, {"ordering": "-username"})
    assert _rows(shown)[-1] == org.administrator.pk
    assert "ordering=username" in shown.text


def test_roles_and_the_authenticator_read_as_words(client, org):
    make_totp_device(org.counselor)
    login_staff(client, org.administrator)
    html = client.get(URL, {"q": "counselor"}).text
    row = html.split(f'data-testid="staff-{org.counselor.pk}"')[1].split("</tr>")[0]
    assert (
        "心理咨询师" in row
        and "已设置" in row
        and "counselor</a>" in row.replace(" ", "").replace("\n", "")
    )


def test_the_export_is_logged_and_for_administrators_only(client, org):
    login_staff(client, org.administrator)
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "登录名"
    assert "officer" in [row[0] for row in rows[1:]]
    assert "<" not in "".join("".join(row) for row in rows)
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    login_staff(client, org.officer)
    refused = client.get(URL, {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


def test_no_match_names_the_next_step(client, org):
    login_staff(client, org.administrator)
    page = client.get(URL, {"q": "没有这个人"}).text
    assert 'data-testid="no-staff"' in page and "清除搜索" in page


@pytest.mark.parametrize("extra", [1, 60])
def test_the_list_runs_a_fixed_number_of_queries(client, org, extra, django_assert_max_num_queries):
    for n in range(extra):
        user = make_user(None, Role.OFFICER if n % 2 else Role.LECTURER, office=org.east)
        if n % 3 == 0:
            make_totp_device(user)
    login_staff(client, org.administrator)
    client.get(URL)
    # admin chrome, the count, the page with its authenticator flag, the page's roles, the
    # office filter's choices
    with django_assert_max_num_queries(16):
        response = client.get(URL)
    assert len(_rows(response)) == min(extra + 7, 50)
