"""Login protection: lockout (django-axes), Argon2, password policy, idle sign-out, session key."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    validate_password,
)
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from people.middleware import LAST_ACTIVITY_KEY
from people.models import User
from people.passwords import RolePasswordValidator
from tests.factories import PASSWORD, login_staff

pytestmark = pytest.mark.django_db

SITE_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED_ZH = "登录已暂时锁定"
IDLE_ZH = "为了保护您的信息，长时间未操作已自动退出，请重新登录"


def _post_login(client, url, username, password, ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- Lockout ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SITE_LOGIN, ADMIN_LOGIN])
def test_five_failures_lock_the_username_and_ip(client, learner, officer, url):
    user = officer if url == ADMIN_LOGIN else learner
    for _ in range(4):
        response = _post_login(client, url, user.username, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    response = _post_login(client, url, user.username, "wrong-password")
    assert response.status_code == 429

    # The sixth attempt, with the right password, is still refused with the Chinese page.
    response = _post_login(client, url, user.username, PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert LOCKED_ZH in text
    assert "30 分钟" in text
    assert not _signed_in(client)


def test_lockout_page_speaks_english_when_asked(client, learner):
    for _ in range(5):
        _post_login(client, SITE_LOGIN, learner.username, "wrong-password")
    client.cookies["django_language"] = "en"
    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 429
    assert "Sign-in temporarily locked" in response.content.decode()


def test_other_ip_and_other_username_are_not_locked(client, learner, other_learner):
    for _ in range(5):
        _post_login(client, SITE_LOGIN, learner.username, "wrong-password", ip="10.0.0.1")

    response = _post_login(client, SITE_LOGIN, other_learner.username, PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302
    client.logout()

    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302
    assert _signed_in(client)


def test_success_resets_the_failure_count(client, learner):
    for _ in range(4):
        _post_login(client, SITE_LOGIN, learner.username, "wrong-password")
    assert AccessAttempt.objects.filter(username=learner.username).exists()

    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=learner.username).exists()
    client.logout()

    # Four more failures: without the reset these would make eight, well over the limit.
    for _ in range(4):
        _post_login(client, SITE_LOGIN, learner.username, "wrong-password")
    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_admin_sign_in_labels_the_password_field_in_the_persons_language(client, officer):
    page = client.get(ADMIN_LOGIN).content.decode()
    assert '<label class="w-field__label" for="id_password"' in page
    assert ">Password<" not in page  # Wagtail 8's field has no label: Django's fallback
    assert "密码" in page.split('for="id_password"')[1].split("</label>")[0]

    client.cookies["django_language"] = "en"
    page = client.get(ADMIN_LOGIN).content.decode()
    assert "Password" in page.split('for="id_password"')[1].split("</label>")[0]

    # The form still signs staff in.
    response = _post_login(client, ADMIN_LOGIN, officer.username, PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


# --- Hashing ------------------------------------------------------------------------------

REAL_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def test_new_passwords_are_hashed_with_argon2(settings, learner):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    learner.set_password("a-new-Password-2026")
    learner.save()
    learner.refresh_from_db()
    assert identify_hasher(learner.password).algorithm == "argon2"
    assert learner.password.startswith("argon2$argon2id$")
    assert learner.check_password("a-new-Password-2026")


def test_pbkdf2_hashes_still_work_and_are_upgraded_at_sign_in(settings, client, learner):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    learner.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    learner.save()
    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 302
    learner.refresh_from_db()
    assert identify_hasher(learner.password).algorithm == "argon2"


# --- Password policy ----------------------------------------------------------------------

DEMO_PASSWORD = "demo-pass-2026"


def _errors(password, user):
    try:
        RolePasswordValidator().validate(password, user)
    except ValidationError as exc:
        return [e.code for e in exc.error_list]
    return []


def test_demo_password_meets_the_staff_policy(officer, counselor, lecturer, org):
    for user in (officer, counselor, lecturer, org.administrator):
        validate_password(DEMO_PASSWORD, user)  # the whole configured chain


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short-1!", "password_too_short"),  # 8 characters
        ("onlylowercaseletters", "password_too_simple"),  # one class
        ("lowercase-and-symbols", "password_too_simple"),  # two classes
        ("123456789012", "password_too_simple"),  # digits only
    ],
)
def test_staff_policy_refuses(officer, password, code):
    assert code in _errors(password, officer)


@pytest.mark.parametrize(
    "password", ["Tr0ub4dor&3x", "correct horse 7 Battery", "长城-Great-Wall-2026", "ABCdef123456"]
)
def test_staff_policy_accepts(officer, password):
    assert _errors(password, officer) == []


def test_superusers_and_unknown_users_get_the_staff_policy(db):
    root = User.objects.create_superuser("root", password=None)
    assert "password_too_simple" in _errors("onlylowercaseletters", root)
    assert "password_too_simple" in _errors("onlylowercaseletters", None)
    assert "password_too_simple" in _errors("onlylowercaseletters", User(username="new"))


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password_too_short"),
        ("password", "password_too_common"),
        ("qwertyuiop", "password_too_common"),
        ("2026031512345", "password_entirely_numeric"),
    ],
)
def test_learner_policy_refuses(learner, password, code):
    assert code in _errors(password, learner)


@pytest.mark.parametrize("password", ["sunflower-road", "mountainriver", "我爱学习法律知识呀"])
def test_learner_policy_is_gentler(learner, officer, password):
    assert _errors(password, learner) == []
    assert "password_too_simple" in _errors(password, officer)


def test_policy_messages_are_in_chinese(learner, officer):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as staff:
            validate_password("abc", officer)
        with pytest.raises(ValidationError) as mine:
            validate_password("12345", learner)
    staff_text = " ".join(staff.value.messages)
    assert "工作人员密码至少需要 12 个字符" in staff_text
    assert "至少三类" in staff_text
    assert "不能全部是数字" in " ".join(mine.value.messages)


def test_help_text_names_both_policies():
    with translation.override("zh-hans"):
        text = RolePasswordValidator().get_help_text()
    assert "12" in text
    assert "8" in text


def _meets_staff_rule(password: str) -> bool:
    """The staff rule written out independently of people/passwords.py."""
    classes = 0
    classes += any(c.islower() for c in password)
    classes += any(c.isupper() for c in password)
    classes += any(c.isdigit() for c in password)
    classes += any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    try:
        _COMMON.validate(password)
    except ValidationError:
        return False
    return len(password) >= 12 and classes >= 3


_COMMON = CommonPasswordValidator()
_MIXED = st.sampled_from(list("abcxyzABCXYZ0189!-_ .@中文"))
_CANDIDATES = st.one_of(
    st.text(_MIXED, max_size=20),
    st.text(max_size=20),
    st.sampled_from(["password12345", "Password1234", "qwertyuiop123", DEMO_PASSWORD]),
)
_STAFF = User(username="fuzz-staff", is_superuser=True)  # unsaved: no database needed


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=_CANDIDATES)
def test_staff_validator_accepts_exactly_the_passwords_meeting_the_rule(password):
    accepted = _errors(password, _STAFF) == []
    assert accepted == _meets_staff_rule(password)


# --- Idle sign-out ------------------------------------------------------------------------


def _idle_for(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds
    session.save()


def test_staff_are_signed_out_after_15_idle_minutes(client, officer):
    login_staff(client, officer)
    _idle_for(client, 14 * 60)
    assert client.get("/admin/").status_code == 200
    assert _signed_in(client)

    _idle_for(client, 15 * 60 + 30)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(ADMIN_LOGIN)
    assert not _signed_in(client)


def test_learners_are_signed_out_after_30_idle_minutes(client, learner):
    client.force_login(learner)
    _idle_for(client, 20 * 60)  # past the staff limit, within the learner one
    assert client.get("/").status_code == 200
    assert _signed_in(client)

    _idle_for(client, 30 * 60 + 30)
    response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith(f"{SITE_LOGIN}?next=/")
    assert not _signed_in(client)
    assert IDLE_ZH in response.content.decode()


def test_activity_keeps_the_session_alive(client, learner):
    client.force_login(learner)
    _idle_for(client, 29 * 60)
    assert client.get("/").status_code == 200
    # The request refreshed the clock, so the session is fresh again.
    assert int(time.time()) - client.session[LAST_ACTIVITY_KEY] < 5


def test_sign_in_starts_the_idle_clock(client, learner):
    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 302
    assert int(time.time()) - client.session[LAST_ACTIVITY_KEY] < 5


# --- Session fixation ---------------------------------------------------------------------


def test_session_key_changes_at_sign_in(client, learner):
    session = client.session
    session["before"] = "anonymous visit"
    session.save()
    old_key = client.cookies["sessionid"].value

    response = _post_login(client, SITE_LOGIN, learner.username, PASSWORD)
    assert response.status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert not SessionStore(session_key=old_key).exists(old_key)
    assert client.session["before"] == "anonymous visit"  # data kept, key rotated
