from __future__ import annotations

import pytest

from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.text
    assert "欢迎" in response.text
    # each language is offered in its own name, so a reader of either can find it
    assert ">English</button>" in response.text
    assert ">简体中文</button>" in response.text


def test_english_is_one_click_away(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    response = client.get("/")
    assert 'lang="en"' in response.text
    assert "Welcome" in response.text


def test_learner_sees_dashboard_shell_with_honest_placeholders(client, org):
    client.force_login(org.learner)
    response = client.get("/")
    text = response.text
    assert "张三" in text
    assert org.east.name in text
    assert 'data-testid="month-hours"' in text  # this month's hours against the quota
    assert 'data-testid="no-courses"' in text  # no course assigned yet
    assert response["Cache-Control"] == "no-store, private"


def test_staff_see_a_way_to_the_workspace(client, org):
    login_staff(client, org.officer)
    response = client.get("/")
    assert 'href="/admin/"' in response.text


def test_user_without_role_is_told_what_to_do(client, org):
    client.force_login(org.outsider)
    assert "尚未分配角色" in client.get("/").text


def test_login_page_in_both_languages(client):
    assert "登录" in client.get("/accounts/login/").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Sign in" in client.get("/accounts/login/").text


def test_login_and_logout(client, org):
    response = client.post(
        "/accounts/login/", {"username": "learner", "password": "Test-pass-2026!"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].is_authenticated
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_gives_clear_message(client, org):
    response = client.post("/accounts/login/", {"username": "learner", "password": "nope"})
    assert response.status_code == 200
    assert "form-error" in response.text


def test_password_change_page_renders(client, org):
    client.force_login(org.learner)
    assert client.get("/accounts/password/").status_code == 200
