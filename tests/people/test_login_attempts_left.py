"""A failed sign-in close to the lock says how many attempts are left (django-axes: 5)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SITE_LOGIN = "/accounts/login/"


def _fail(client, username, ip="10.0.0.9"):
    return client.post(
        SITE_LOGIN, {"username": username, "password": "wrong-password"}, REMOTE_ADDR=ip
    )


def test_the_last_two_attempts_are_announced_before_the_lock(client, learner):
    texts = [_fail(client, learner.username).content.decode() for _ in range(4)]
    assert "还可尝试" not in texts[0] and "还可尝试" not in texts[1]
    assert "还可尝试 2 次" in texts[2]
    assert "还可尝试 1 次" in texts[3]
    assert "30 分钟" in texts[3]
    assert _fail(client, learner.username).status_code == 429


def test_the_warning_is_in_english_in_english_mode(client, learner):
    client.cookies["django_language"] = "en"
    for _ in range(3):
        response = _fail(client, learner.username)
    assert "You can try 2 more times" in response.content.decode()
    response = _fail(client, learner.username)
    assert "You can try 1 more time." in response.content.decode()


def test_another_address_has_its_own_count(client, learner):
    for _ in range(3):
        _fail(client, learner.username)
    assert "还可尝试" not in _fail(client, learner.username, ip="10.0.0.10").content.decode()
