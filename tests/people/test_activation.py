"""Activation codes: an officer issues one at check-in; the person sets a password with it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AccessEvent, Action
from notifications.models import Delivery
from people import activation
from people.activation import (
    MAX_ATTEMPTS,
    ActivationError,
    check_activation_code,
    do_activate,
    do_issue_activation_code,
    hash_code,
)
from people.models import ActivationCode, VoidReason
from tests.factories import login_staff

ACTIVATE = "/accounts/activate/"
NEW_PASSWORD = "quiet-river-42"


@pytest.fixture
def imported(org):
    """The learner as the roster import leaves them: an account with no usable password."""
    org.learner.set_unusable_password()
    org.learner.save(update_fields=["password"])
    org.person.phone = "13812345678"
    org.person.save(update_fields=["phone"])
    return org.person


def issue_url(person) -> str:
    return f"/admin/people/{person.pk}/activation/"


def shown_code(response) -> str:
    match = re.search(r'data-testid="activation-code">(\d{4} \d{4})<', response.text)
    assert match, "the issued page shows the code"
    return match.group(1)


def activate(client, login, code, password=NEW_PASSWORD, again=None):
    return client.post(
        ACTIVATE,
        {
            "login": login,
            "code": code,
            "new_password1": password,
            "new_password2": password if again is None else again,
        },
    )


# --- Service ---------------------------------------------------------------------------------


def test_only_a_hash_of_the_code_is_stored(imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    assert re.fullmatch(r"\d{8}", code)
    stored = ActivationCode.objects.filter(pk=row.pk).values().get()
    assert code not in " ".join(str(v) for v in stored.values())
    assert stored["code_hash"] == hash_code(code) != code


def test_a_code_is_valid_for_72_hours(imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    assert row.expires_at - row.created_at == timedelta(hours=72)
    assert check_activation_code("learner", code).pk == row.pk
    ActivationCode.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(hours=72, seconds=1),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    with pytest.raises(ActivationError, match="已过期"):
        check_activation_code("learner", code)


def test_a_code_is_used_once(imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    do_activate(check_activation_code("learner", code), NEW_PASSWORD)
    imported.user.refresh_from_db()
    assert imported.user.check_password(NEW_PASSWORD)
    with pytest.raises(ActivationError, match="已经用过了"):
        check_activation_code("learner", code)
    with pytest.raises(ActivationError):
        do_activate(row, "another-pass-99")  # a second request racing the first
    imported.user.refresh_from_db()
    assert imported.user.check_password(NEW_PASSWORD)


def test_reissue_voids_the_old_code(imported, org):
    old, old_code = do_issue_activation_code(imported, issued_by=org.officer)
    new, new_code = do_issue_activation_code(imported, issued_by=org.officer)
    old.refresh_from_db()
    assert old.voided_at is not None and old.void_reason == VoidReason.REISSUED
    with pytest.raises(ActivationError, match="新的激活码"):
        check_activation_code("learner", old_code)
    assert check_activation_code("learner", new_code).pk == new.pk
    assert ActivationCode.objects.filter(person=imported).live().count() == 1


def test_the_database_holds_one_open_code_per_person(imported, org):
    do_issue_activation_code(imported, issued_by=org.officer)
    with pytest.raises(IntegrityError):
        ActivationCode.objects.create(
            person=imported, code_hash="x", expires_at=timezone.now() + timedelta(hours=1)
        )


def test_five_wrong_tries_void_the_code(imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    wrong = "00000000" if code != "00000000" else "11111111"
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(ActivationError, match="登录名或激活码不对"):
            check_activation_code("learner", wrong)
    row.refresh_from_db()
    assert row.failed_attempts == MAX_ATTEMPTS
    assert row.void_reason == VoidReason.ATTEMPTS
    with pytest.raises(ActivationError, match="输错的次数太多"):
        check_activation_code("learner", code)


def test_the_phone_number_and_spaced_code_work_too(imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    assert check_activation_code("138 1234 5678", f"{code[:4]} {code[4:]}").pk == row.pk
    assert check_activation_code("LEARNER", f"{code[:4]}-{code[4:]}").pk == row.pk


def test_a_login_name_with_dashes_works(imported, org):
    """The roster import makes login names from case numbers, such as ``case-00001``."""
    org.learner.username = "sf-2026-0001"
    org.learner.save(update_fields=["username"])
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    assert check_activation_code("SF-2026-0001", code).pk == row.pk
    with pytest.raises(ActivationError):
        check_activation_code("sf20260001", code)


def test_another_persons_code_does_not_open_this_account(imported, org):
    _row, code = do_issue_activation_code(org.other_person, issued_by=org.other_officer)
    with pytest.raises(ActivationError, match="登录名或激活码不对"):
        check_activation_code("learner", code)


# --- Officer issues --------------------------------------------------------------------------


def test_officer_issues_a_code_shown_once_with_qr_and_logged(imported, org):
    client = Client()
    login_staff(client, org.officer)
    page = client.get(f"/admin/people/{imported.pk}/")
    assert 'data-testid="activation-button"' in page.text
    assert "生成激活码" in page.text
    response = client.post(issue_url(imported))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    code = shown_code(response)
    assert 'data-testid="activation-qr"' in response.text
    row = ActivationCode.objects.get(person=imported)
    assert row.code_hash == hash_code(code)
    assert row.issued_by == org.officer
    event = AccessEvent.objects.filter(action=Action.CHANGE, object_id=str(row.pk)).get()
    assert event.username == "officer"
    assert event.person_id == imported.pk
    assert event.detail == "activation code issued"


def test_sms_sends_the_link_and_the_log_keeps_the_code_masked(imported, org, settings, caplog):
    settings.SMS_BACKEND = "console"
    settings.REMINDER_CHANNELS = ["sms"]
    client = Client()
    login_staff(client, org.officer)
    with caplog.at_level("INFO", logger="notifications.senders"):
        response = client.post(issue_url(imported))
    code = shown_code(response).replace(" ", "")
    delivery = Delivery.objects.get(recipient=org.learner)
    assert delivery.status == "sent"
    assert delivery.address == "13812345678"
    assert "**** ****" in delivery.body
    assert code not in delivery.body and code[:4] not in delivery.body
    assert "/accounts/activate/?login=learner" in delivery.body
    assert f"code={code}" in caplog.text  # what the console "gateway" was handed
    assert 'data-testid="activation-sms"' in response.text


def test_no_sms_when_sms_is_off(imported, org, settings):
    settings.SMS_BACKEND = "off"
    client = Client()
    login_staff(client, org.officer)
    response = client.post(issue_url(imported))
    assert response.status_code == 200
    assert not Delivery.objects.exists()
    assert 'data-testid="activation-sms"' not in response.text


def test_reissue_for_an_activated_person_says_regenerate_and_is_logged(org):
    client = Client()
    login_staff(client, org.officer)  # the learner has a password already
    page = client.get(f"/admin/people/{org.person.pk}/")
    assert "重新生成" in page.text
    client.post(issue_url(org.person))
    response = client.post(issue_url(org.person))
    assert response.status_code == 200
    assert ActivationCode.objects.filter(person=org.person).count() == 2
    assert ActivationCode.objects.filter(person=org.person).live().count() == 1
    details = AccessEvent.objects.filter(object_type="people.activationcode").values_list(
        "detail", flat=True
    )
    assert list(details) == ["activation code reissued", "activation code reissued"]


@pytest.mark.parametrize("role", ["counselor", "administrator", "lecturer", "editor"])
def test_other_staff_cannot_issue(org, role):
    client = Client()
    login_staff(client, getattr(org, role))
    response = client.post(issue_url(org.person))
    assert response.status_code in (302, 403)
    assert not ActivationCode.objects.exists()
    page = client.get(f"/admin/people/{org.person.pk}/")
    assert 'data-testid="activation-button"' not in page.text


def test_an_officer_out_of_scope_gets_404(org):
    client = Client()
    login_staff(client, org.other_officer)
    assert client.post(issue_url(org.person)).status_code == 404
    assert not ActivationCode.objects.exists()


# --- The person activates --------------------------------------------------------------------


def test_sign_in_page_links_to_activation(client):
    response = client.get("/accounts/login/")
    assert 'href="/accounts/activate/"' in response.text
    assert "第一次使用？用激活码设置密码" in response.text


def test_the_qr_link_fills_in_login_and_code(client, imported, org):
    _row, code = do_issue_activation_code(imported, issued_by=org.officer)
    response = client.get(activation.activation_path(login="learner", code=code))
    assert response.status_code == 200
    assert 'value="learner"' in response.text
    assert f'value="{code}"' in response.text


def test_person_activates_and_is_signed_in(client, imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    response = activate(client, "learner", code)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(org.learner.pk)
    org.learner.refresh_from_db()
    assert org.learner.check_password(NEW_PASSWORD)
    row.refresh_from_db()
    assert row.used_at is not None
    assert AccessEvent.objects.filter(
        action=Action.CHANGE, object_id=str(row.pk), detail__startswith="activation code used"
    ).exists()
    # and can sign in with the password afterwards
    fresh = Client()
    response = fresh.post("/accounts/login/", {"username": "learner", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert fresh.session["_auth_user_id"] == str(org.learner.pk)


def test_a_wrong_code_changes_nothing_and_says_so_in_chinese(client, imported, org):
    _row, code = do_issue_activation_code(imported, issued_by=org.officer)
    wrong = "00000000" if code != "00000000" else "11111111"
    response = activate(client, "learner", wrong)
    assert response.status_code == 400
    assert "登录名或激活码不对" in response.text
    org.learner.refresh_from_db()
    assert not org.learner.has_usable_password()
    assert "_auth_user_id" not in client.session
    assert AccessEvent.objects.filter(action=Action.LOGIN_FAILED, username="learner").exists()


def test_an_unknown_login_gets_the_same_answer(client, imported, org):
    do_issue_activation_code(imported, issued_by=org.officer)
    response = activate(client, "nobody-here", "12345678")
    assert response.status_code == 400
    assert "登录名或激活码不对" in response.text


def test_a_weak_password_is_refused_in_chinese_and_the_code_still_works(client, imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    response = activate(client, "learner", code, password="12345678")
    assert response.status_code == 400
    assert "密码" in response.text and "Your password" not in response.text
    response = activate(client, "learner", code, password=NEW_PASSWORD, again="other-pass-1")
    assert response.status_code == 400
    assert "两次输入的密码不一样" in response.text
    row.refresh_from_db()
    assert row.used_at is None and row.failed_attempts == 0
    assert activate(client, "learner", code).status_code == 302


def test_an_expired_code_gets_a_clear_message(client, imported, org):
    row, code = do_issue_activation_code(imported, issued_by=org.officer)
    ActivationCode.objects.filter(pk=row.pk).update(expires_at=timezone.now())
    response = activate(client, "learner", code)
    assert response.status_code == 400
    assert "激活码已过期" in response.text
    org.learner.refresh_from_db()
    assert not org.learner.has_usable_password()


def test_empty_form_answers_400_not_500(client):
    response = client.post(ACTIVATE, {})
    assert response.status_code == 400
    response = client.post(ACTIVATE, {"login": "\x00", "code": "x" * 5000})
    assert response.status_code in (400,)


def test_reissue_resets_a_forgotten_password_on_activation(client, org):
    _row, code = do_issue_activation_code(org.person, issued_by=org.officer)
    org.learner.refresh_from_db()
    assert org.learner.has_usable_password()  # the old password still works until then
    assert activate(client, "learner", code).status_code == 302
    org.learner.refresh_from_db()
    assert org.learner.check_password(NEW_PASSWORD)


def test_random_input_never_errors_and_never_activates(imported, org):
    """200 random forms: always a 400 in plain words, never a 500, never a password set."""
    do_issue_activation_code(imported, issued_by=org.officer)
    text = st.text(max_size=40)

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        login=st.one_of(st.just("learner"), text),
        code=st.one_of(st.text("0123456789 ", max_size=12), text),
        password=text,
    )
    def run(login, code, password):
        ActivationCode.objects.filter(person=imported).update(failed_attempts=0)
        client = Client(raise_request_exception=False)
        response = activate(client, login, code, password=password)
        assert response.status_code == 400, response.status_code
        assert "_auth_user_id" not in client.session

    run()
    org.learner.refresh_from_db()
    assert not org.learner.has_usable_password()
