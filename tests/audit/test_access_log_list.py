"""The access log on Wagtail's IndexView: search by a person's name or case number and by the
user, filters by action, user and dates (no internal id to type), ordering by column, the
administrators' logged POST export of what the list shows, and the empty state."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from audit.services import record_access
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

URL = "/admin/access-log/"


def _rows(response) -> list[int]:
    """The event ids listed, in the order shown."""
    html = response.text.split('data-testid="access-log"', 1)[-1]
    return [int(chunk.split('"', 1)[0]) for chunk in html.split('data-testid="access-event-')[1:]]


def _events(org):
    """An officer viewing ``person``, a counselor viewing ``other_person``, a failed sign-in."""
    seen = record_access(
        action=Action.VIEW, user=org.officer, obj=org.person, person_id=org.person.pk
    )
    other = record_access(
        action=Action.VIEW, user=org.counselor, obj=org.other_person, person_id=org.other_person.pk
    )
    failed = record_access(action=Action.LOGIN_FAILED, username="nobody", success=False)
    return seen, other, failed


def test_the_urls_are_kept():
    assert reverse("audit_access_log") == URL
    assert reverse("audit_access_log_results") == URL + "results/"
    assert reverse("audit_access_log_export") == URL + "export/"


def test_search_by_the_persons_name_or_case_number(client, org):
    seen, other, _failed = _events(org)
    login_staff(client, org.administrator)
    assert _rows(client.get(URL, {"q": org.person.case_number})) == [seen.pk]
    assert _rows(client.get(URL, {"q": org.other_person.full_name})) == [other.pk]
    results = client.get(reverse("audit_access_log_results"), {"q": org.person.case_number})
    assert f'"access-event-{seen.pk}"' in results.text
    assert f'"access-event-{other.pk}"' not in results.text


def test_search_by_the_users_sign_in_or_real_name(client, org):
    seen, other, failed = _events(org)
    org.counselor.name = "王晓红"
    org.counselor.save(update_fields=["name"])
    login_staff(client, org.administrator)
    assert _rows(client.get(URL, {"q": "晓红"})) == [other.pk]
    assert _rows(client.get(URL, {"q": "nobody"})) == [failed.pk]


def test_an_internal_id_is_not_a_filter_any_more(client, org):
    _events(org)
    login_staff(client, org.administrator)
    page = client.get(URL).text
    assert 'name="person_id"' not in page
    assert 'name="q"' in page  # the search box takes a name or a case number


def test_filters_by_action_user_and_dates(client, org):
    seen, other, failed = _events(org)
    login_staff(client, org.administrator)
    assert set(_rows(client.get(URL, {"action": Action.VIEW}))) >= {seen.pk, other.pk}
    assert failed.pk not in _rows(client.get(URL, {"action": Action.VIEW}))
    assert _rows(client.get(URL, {"username": "counselor", "action": Action.VIEW})) == [other.pk]
    today = timezone.localdate()
    assert seen.pk in _rows(client.get(URL, {"since": today, "until": today}))
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert _rows(client.get(URL, {"since": tomorrow})) == []


def test_an_end_before_the_start_shows_no_rows_and_says_so(client, org):
    _events(org)
    login_staff(client, org.administrator)
    today = timezone.localdate()
    page = client.get(URL, {"since": today, "until": today - dt.timedelta(days=1)})
    assert page.status_code == 200 and _rows(page) == []
    assert 'data-testid="access-log-empty"' in page.text


def test_ordering_by_column_is_stable(client, org):
    for _ in range(3):
        record_access(action=Action.VIEW, user=org.officer, obj=org.person)
    login_staff(client, org.administrator)
    newest_first = _rows(client.get(URL))
    assert newest_first == sorted(newest_first, reverse=True)
    by_user = _rows(client.get(URL, {"ordering": "username", "username": "officer"}))
    assert by_user == sorted(by_user)  # every row ties on the user: the pk decides
    down = _rows(client.get(URL, {"ordering": "-username", "username": "officer"}))
    assert down == list(reversed(by_user))
    assert client.get(URL, {"ordering": "hash"}).status_code == 200  # not offered: the default


def test_the_export_holds_what_the_list_shows_and_is_logged(client, org):
    seen, other, _failed = _events(org)
    login_staff(client, org.administrator)
    page = client.get(URL, {"q": org.person.case_number})
    hidden = f'<input type="hidden" name="q" value="{org.person.case_number}">'
    assert hidden in page.text
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    export = client.post(reverse("audit_access_log_export"), {"q": org.person.case_number})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [int(row[0]) for row in rows[1:]] == [seen.pk]
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    bad = client.post(reverse("audit_access_log_export"), {"since": "2026-13-45"})
    assert len(b"".join(bad.streaming_content).decode("utf-8-sig").splitlines()) == 1  # heading


def test_wagtails_get_export_is_not_offered(client, org):
    _events(org)
    login_staff(client, org.administrator)
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200 and not response.get("Content-Disposition")
    assert "export=xlsx" not in response.text  # no spreadsheet buttons in the header


@pytest.mark.parametrize("role", ["officer", "counselor"])
def test_the_list_its_results_and_the_export_are_refused_to_other_roles(client, org, role):
    login_staff(client, getattr(org, role))
    for url in (URL, reverse("audit_access_log_results")):
        assert client.get(url).status_code in (302, 403)
    refused = client.post(reverse("audit_access_log_export"))
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


def test_no_match_names_the_next_step(client, org):
    _events(org)
    login_staff(client, org.administrator)
    page = client.get(URL, {"q": "没有这个人"}).text
    assert 'data-testid="access-log-empty"' in page and "清除搜索" in page


@pytest.mark.parametrize("extra", [1, 150])
def test_the_page_runs_a_fixed_number_of_queries(client, org, extra, django_assert_max_num_queries):
    for _ in range(extra):
        record_access(action=Action.VIEW, user=org.officer, obj=org.person, person_id=org.person.pk)
    login_staff(client, org.administrator)
    client.get(URL)
    # session, user, two-factor, permissions, roles, menu chrome, count, page, names
    with django_assert_max_num_queries(16):
        response = client.get(URL)
    assert len(_rows(response)) == min(AccessEvent.objects.count(), 100)
