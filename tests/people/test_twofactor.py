"""Two-factor authentication (TOTP + recovery codes) for staff, enforced for the admins."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessEvent, Action
from people import twofactor
from tests.factories import login_staff, make_totp_device

SETUP = "/accounts/2fa/setup/"
VERIFY = "/accounts/2fa/verify/"
RECOVERY = "/accounts/2fa/recovery/"
STAFF_ROLES = ["lecturer", "counselor", "officer", "administrator"]


def code_for(device: TOTPDevice, steps: int = 0) -> str:
    """The device's code for now (or ``steps`` time steps away), as the phone app shows it."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {code_for(device, s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def _next_of(response) -> str:
    return parse_qs(urlsplit(response["Location"]).query)["next"][0]


# --- Enforcement -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_without_a_device_is_sent_to_setup(client, org, role):
    client.force_login(getattr(org, role))
    response = client.get("/admin/people/?q=x")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    assert _next_of(response) == "/admin/people/?q=x"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_with_a_device_but_unverified_is_sent_to_verify(client, org, role):
    user = getattr(org, role)
    make_totp_device(user)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert _next_of(response) == "/admin/"


def test_django_admin_is_enforced_for_superusers(client, org):
    org.administrator.is_superuser = True
    org.administrator.is_staff = True
    org.administrator.save()
    client.force_login(org.administrator)
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_wagtail_login_and_logout_are_exempt(client, org):
    client.force_login(org.officer)
    response = client.get("/admin/login/")
    assert not response.get("Location", "").startswith(SETUP)
    response = client.post("/admin/logout/")
    assert not response.get("Location", "").startswith(SETUP)


@pytest.mark.parametrize("role", ["learner", "outsider"])
def test_learners_and_users_without_a_role_are_never_asked(client, org, role):
    client.force_login(getattr(org, role))
    response = client.get("/admin/")
    assert not response.get("Location", "").startswith((SETUP, VERIFY))
    assert client.get(SETUP).status_code == 404
    assert client.get(VERIFY).status_code == 404
    assert not TOTPDevice.objects.filter(user=getattr(org, role)).exists()


def test_anonymous_is_sent_to_sign_in(client, db):
    for url in (SETUP, VERIFY, RECOVERY):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_verified_staff_reach_the_admin(client, org):
    login_staff(client, org.officer)
    assert client.get("/admin/people/").status_code == 200


# --- Setup -------------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret_without_inline_script_or_style(client, org):
    client.force_login(org.officer)
    response = client.get(SETUP, {"next": "/admin/people/"})
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="twofactor-qr"' in html
    assert 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=org.officer)
    assert not device.confirmed
    secret = twofactor.b32_secret(device)
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    assert quote("社区矫正平台") in device.config_url
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "style=" not in html
    # a second visit reuses the pending device instead of making a new secret
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=org.officer).count() == 1


def test_correct_code_confirms_the_device_shows_recovery_codes_and_opens_the_admin(client, org):
    client.force_login(org.officer)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=org.officer)
    response = client.post(SETUP, {"token": code_for(device), "next": "/admin/people/"})
    assert response.status_code == 200
    assert 'data-testid="twofactor-recovery-codes"' in response.text
    device.refresh_from_db()
    assert device.confirmed
    codes = list(
        StaticToken.objects.filter(device__user=org.officer).values_list("token", flat=True)
    )
    assert len(codes) == 10
    assert all(code in response.text for code in codes)
    assert 'href="/admin/people/"' in response.text
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/admin/people/").status_code == 200
    # once set up, the setup page cannot replace the device
    response = client.get(SETUP)
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=org.officer).count() == 1


def test_wrong_code_at_setup_is_refused_and_changes_nothing(client, org):
    client.force_login(org.officer)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=org.officer)
    response = client.post(SETUP, {"token": wrong_code(device)})
    assert response.status_code == 400
    assert 'data-testid="twofactor-error"' in response.text
    assert "That code is not right" in response.text
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=org.officer).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/admin/")["Location"].startswith(SETUP)


def test_setup_with_unverified_confirmed_device_goes_to_verify(client, org):
    make_totp_device(org.officer)
    client.force_login(org.officer)
    response = client.get(SETUP)
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=org.officer).count() == 1


# --- Verify ------------------------------------------------------------------------------------


def test_correct_code_verifies_and_follows_a_safe_next(client, org):
    device = make_totp_device(org.counselor)
    client.force_login(org.counselor)
    key_before = client.session.session_key
    response = client.post(VERIFY, {"token": code_for(device), "next": "/admin/people/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/people/"
    assert client.session.session_key != key_before  # the session key is rotated
    assert client.get("/admin/people/").status_code == 200


def test_a_code_is_accepted_only_once(client, org):
    device = make_totp_device(org.counselor)
    token = code_for(device)
    client.force_login(org.counselor)
    assert client.post(VERIFY, {"token": token}).status_code == 302
    client.logout()
    client.force_login(org.counselor)  # a new session
    assert client.post(VERIFY, {"token": token}).status_code == 400


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/admin/", "http://testserver.evil/", "\\\\evil"],
)
def test_open_redirect_in_next_is_refused(client, org, next_url):
    device = make_totp_device(org.officer)
    client.force_login(org.officer)
    response = client.post(VERIFY + "?next=" + next_url, {"token": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_wrong_code_is_refused_clearly(client, org):
    device = make_totp_device(org.officer)
    client.force_login(org.officer)
    response = client.post(VERIFY, {"token": wrong_code(device), "next": "/admin/"})
    assert response.status_code == 400
    assert 'data-testid="twofactor-error"' in response.text
    assert "That code is not right" in response.text
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    # the failure is logged like a failed sign-in
    assert AccessEvent.objects.filter(action=Action.LOGIN_FAILED, username="officer").exists()


def test_recovery_code_works_once_and_not_twice(client, org):
    make_totp_device(org.officer)
    codes = twofactor.do_generate_recovery_codes(org.officer)
    client.force_login(org.officer)
    response = client.post(VERIFY, {"token": codes[0].upper(), "next": "/admin/people/"})
    assert response["Location"] == "/admin/people/"
    assert client.get("/admin/people/").status_code == 200
    assert twofactor.remaining_recovery_codes(org.officer) == 9

    client.logout()
    client.force_login(org.officer)  # a new session, not verified
    response = client.post(VERIFY, {"token": codes[0]})
    assert response.status_code == 400
    assert client.get("/admin/")["Location"].startswith(VERIFY)


def test_five_wrong_codes_lock_the_second_step_for_30_minutes(client, org):
    device = make_totp_device(org.officer)
    client.force_login(org.officer)
    for _ in range(4):
        assert client.post(VERIFY, {"token": wrong_code(device)}).status_code == 400
    response = client.post(VERIFY, {"token": wrong_code(device)})
    assert response.status_code == 429
    # now even the right code is refused
    response = client.post(VERIFY, {"token": code_for(device)})
    assert response.status_code == 429
    assert 'data-testid="twofactor-locked"' in response.text
    assert "30 minutes" in response.text
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    # a fresh password sign-in does not reset the count
    AccessAttempt.objects.all().delete()
    client.logout()
    client.force_login(org.officer)
    assert client.post(VERIFY, {"token": code_for(device)}).status_code == 429

    # after 30 minutes the lock lifts by itself
    device.refresh_from_db()
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=31)
    device.save()
    response = client.post(VERIFY, {"token": code_for(device), "next": "/admin/"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_wrong_recovery_codes_count_toward_the_lock(client, org):
    make_totp_device(org.officer)
    codes = twofactor.do_generate_recovery_codes(org.officer)
    client.force_login(org.officer)
    for _ in range(5):
        client.post(VERIFY, {"token": "notacode"})
    assert client.post(VERIFY, {"token": codes[0]}).status_code == 429
    assert twofactor.remaining_recovery_codes(org.officer) == 10


def test_verify_without_a_device_goes_to_setup(client, org):
    client.force_login(org.officer)
    response = client.get(VERIFY, {"next": "/admin/people/"})
    assert response["Location"].startswith(SETUP)
    assert _next_of(response) == "/admin/people/"


# --- Recovery codes ----------------------------------------------------------------------------


def test_verified_staff_regenerate_recovery_codes_and_old_ones_stop_working(client, org):
    login_staff(client, org.officer)
    old = twofactor.do_generate_recovery_codes(org.officer)
    assert client.get(RECOVERY).status_code == 200
    response = client.post(RECOVERY)
    assert response.status_code == 200
    new = list(StaticToken.objects.filter(device__user=org.officer).values_list("token", flat=True))
    assert len(new) == 10
    assert not set(new) & set(old)
    assert all(code in response.text for code in new)
    assert StaticDevice.objects.filter(user=org.officer).count() == 1


def test_unverified_staff_cannot_regenerate_recovery_codes(client, org):
    make_totp_device(org.officer)
    old = twofactor.do_generate_recovery_codes(org.officer)
    client.force_login(org.officer)
    response = client.post(RECOVERY)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    stored = StaticToken.objects.filter(device__user=org.officer).values_list("token", flat=True)
    assert set(stored) == set(old)


def test_learners_cannot_use_the_recovery_page(client, org):
    client.force_login(org.learner)
    assert client.post(RECOVERY).status_code == 404


def test_is_staff_users_without_a_role_are_enforced_too(client, org):
    org.outsider.is_staff = True
    org.outsider.save()
    client.force_login(org.outsider)
    assert client.get("/django-admin/")["Location"].startswith(SETUP)
