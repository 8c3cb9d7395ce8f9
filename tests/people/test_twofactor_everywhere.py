"""A staff account that has typed only its password is signed in for the second step only:
every other HTTP route refuses it (people.twofactor.RequireStaffOTPMiddleware), not just the
admins. Sockets: tests/people/test_socket_session_rules.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from notifications.services import notify
from people.roles import Role
from tests.factories import login_staff, make_totp_device

pytestmark = pytest.mark.django_db

STAFF = ("lecturer", "counselor", "officer", "administrator", "editor")


def password_only(user) -> Client:
    client = Client()
    client.force_login(user)  # the password step only
    return client


def redirect_target(response) -> tuple[str, str]:
    location = urlsplit(response["Location"])
    return location.path, parse_qs(location.query).get("next", [""])[0]


@pytest.mark.parametrize("role", STAFF)
def test_password_only_staff_is_sent_to_the_second_step_from_the_front_end(org, role):
    client = password_only(getattr(org, role))
    for url in ("/notifications/", "/", "/plans/mine/", "/assessments/", "/privacy/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert redirect_target(response) == ("/accounts/2fa/setup/", url)


def test_with_a_confirmed_device_it_is_sent_to_verify(org):
    make_totp_device(org.officer)
    response = password_only(org.officer).get("/notifications/?page=2")
    assert redirect_target(response) == ("/accounts/2fa/verify/", "/notifications/?page=2")


def test_the_officer_does_not_read_notifications_before_the_second_step(org):
    notify(org.officer, kind="reminder", title="有一份请假申请等您审批：王洋")
    client = password_only(org.officer)
    assert "王洋" not in client.get("/notifications/", follow=True).content.decode()
    login_staff(client, org.officer)
    assert "王洋" in client.get("/notifications/").content.decode()


def test_a_json_request_gets_403_json(org):
    client = password_only(org.lecturer)
    response = client.post(
        "/learning/heartbeat/", json.dumps({"lesson": 1, "tab": "t"}), "application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "two_factor_required"
    assert response.json()["url"] == "/accounts/2fa/setup/"
    response = client.get("/notifications/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403


def test_sign_in_sign_out_second_step_health_and_static_stay_reachable(org):
    client = password_only(org.officer)
    assert client.get("/accounts/2fa/setup/").status_code == 200
    assert client.get("/health/").status_code == 200
    assert client.get("/static/css/missing.css").status_code == 404  # not sent away
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_webhooks_are_not_sent_to_the_second_step(org, settings):
    settings.PROSODY_WEBHOOK_TOKEN = "tok"
    client = password_only(org.administrator)
    response = client.post("/live/hooks/prosody/", "{}", "application/json")
    assert response.status_code in (400, 401, 403)  # the hook's own answer, no bearer token
    assert "two_factor_required" not in response.content.decode()


def test_learners_and_users_without_a_role_need_no_second_step(org):
    for user in (org.learner, org.outsider):
        client = password_only(user)
        assert client.get("/notifications/").status_code == 200


def test_a_learner_given_a_staff_role_needs_the_second_step_at_once(org):
    client = password_only(org.learner)
    assert client.get("/notifications/").status_code == 200
    org.learner.groups.add(org.lecturer.groups.get(name=Role.LECTURER))
    assert client.get("/notifications/").status_code == 302


def test_verified_staff_use_the_front_end(org):
    client = Client()
    login_staff(client, org.officer)
    assert client.get("/notifications/").status_code == 200
