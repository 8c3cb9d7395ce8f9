"""An administrator resets a staff member's lost authenticator app (no superuser needed)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessEvent, Action
from people import twofactor
from people.models import Office, OfficeKind
from people.roles import Role
from tests.factories import PASSWORD, login_staff, make_totp_device, make_user


def reset_url(user) -> str:
    return f"/admin/people/staff/{user.pk}/reset-authenticator/"


@pytest.fixture
def admin_client(org):
    assert not org.administrator.is_superuser
    client = Client()
    login_staff(client, org.administrator)
    return client


def test_administrator_resets_an_officers_authenticator_and_it_is_logged(org, admin_client):
    officer_client = Client()
    login_staff(officer_client, org.officer)  # signed in, past the second step
    twofactor.do_generate_recovery_codes(org.officer)
    page = admin_client.get(f"/admin/people/staff/{org.officer.pk}/")
    assert page.status_code == 200
    assert 'data-testid="staff-reset-form"' in page.text

    response = admin_client.post(reset_url(org.officer))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=org.officer).exists()
    assert not StaticDevice.objects.filter(user=org.officer).exists()
    event = AccessEvent.objects.get(action=Action.CHANGE, object_type="people.user")
    assert event.username == "administrator"
    assert event.object_id == str(org.officer.pk)
    assert event.detail.startswith("authenticator reset")

    # The officer's open session no longer counts as verified: to setup, then a new device.
    response = officer_client.get("/admin/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/setup/")
    fresh = Client()
    fresh.post("/accounts/login/", {"username": "officer", "password": PASSWORD})
    response = fresh.get("/admin/")
    assert response["Location"].startswith("/accounts/2fa/setup/")
    assert fresh.get("/accounts/2fa/setup/").status_code == 200


def test_the_staff_list_shows_who_has_an_authenticator(org, admin_client):
    make_totp_device(org.counselor)
    response = admin_client.get("/admin/people/staff/")
    assert response.status_code == 200
    table = response.text
    assert "counselor" in table and "officer" in table and "lecturer" in table
    assert "learner" not in table.split('data-testid="staff-list"')[1]


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "editor"])
def test_other_roles_cannot_reset(org, role):
    make_totp_device(org.other_officer)
    client = Client()
    login_staff(client, getattr(org, role))
    response = client.post(reset_url(org.other_officer))
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "/accounts/2fa/" not in response.get("Location", "")
    assert TOTPDevice.objects.filter(user=org.other_officer).exists()
    assert client.get("/admin/people/staff/").status_code in (302, 403)


def test_learners_and_superusers_are_not_managed_here(org, admin_client):
    root = make_user("root", is_superuser=True)
    make_totp_device(root)
    assert admin_client.post(reset_url(root)).status_code == 404
    assert TOTPDevice.objects.filter(user=root).exists()
    assert admin_client.get(f"/admin/people/staff/{org.learner.pk}/").status_code == 404


def test_an_administrator_cannot_reset_their_own(org, admin_client):
    admin_client.post(reset_url(org.administrator))
    assert TOTPDevice.objects.filter(user=org.administrator, confirmed=True).exists()


def test_staff_in_another_bureau_are_out_of_scope(org, admin_client):
    other_bureau = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    stranger = make_user("stranger", Role.OFFICER, office=other_bureau)
    make_totp_device(stranger)
    assert admin_client.post(reset_url(stranger)).status_code == 404
    assert TOTPDevice.objects.filter(user=stranger).exists()
