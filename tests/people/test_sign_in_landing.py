"""Where a person lands after signing in: staff in the admin, learners on the front page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django_otp.oath import totp

from tests.factories import PASSWORD, make_totp_device

pytestmark = pytest.mark.django_db

SITE_LOGIN = "/accounts/login/"
STAFF_ROLES = ["lecturer", "counselor", "officer", "administrator"]


def _sign_in(client, user, **extra):
    return client.post(SITE_LOGIN, {"username": user.username, "password": PASSWORD, **extra})


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_land_in_the_admin_after_signing_in_and_the_second_step(client, org, role):
    user = getattr(org, role)
    device = make_totp_device(user)

    response = _sign_in(client, user)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"

    # The admin asks for the second step first, then opens the admin, not the front page.
    response = client.get("/admin/")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert next_url == "/admin/"
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post("/accounts/2fa/verify/", {"token": code, "next": next_url})
    assert response["Location"] == "/admin/"


def test_learners_land_on_the_front_page(client, learner):
    response = _sign_in(client, learner)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_safe_next_still_wins_for_staff(client, org):
    response = _sign_in(client, org.officer, next="/live/")
    assert response["Location"] == "/live/"


def test_an_unsafe_next_is_ignored_and_staff_still_land_in_the_admin(client, org):
    response = _sign_in(client, org.officer, next="https://evil.example/")
    assert response["Location"] == "/admin/"


def test_signed_in_staff_opening_the_sign_in_page_go_to_the_admin(client, org):
    _sign_in(client, org.counselor)
    response = client.get(SITE_LOGIN)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
