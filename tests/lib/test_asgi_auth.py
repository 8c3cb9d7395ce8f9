"""lib.asgi_auth: channels' cookie, session and auth middleware in one call, same answers."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.test import Client

from lib.asgi_auth import SessionAuthMiddleware
from people.models import User

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def _scope_for(cookie: str | None) -> dict:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    headers = [(b"host", b"localhost")]
    if cookie is not None:
        headers.append((b"cookie", f"other=1; {settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    await SessionAuthMiddleware(app)({"type": "websocket", "headers": headers}, None, None)
    return seen


def _signed_in() -> tuple[Client, User]:
    user = User.objects.create_user("asgi-auth", password="Socket-pass-2026!")
    client = Client()
    client.force_login(user)
    return client, user


async def test_a_signed_in_session_cookie_gives_its_user_and_session():
    client, user = await database_sync_to_async(_signed_in)()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    scope = await _scope_for(key)
    assert scope["user"].pk == user.pk and scope["user"].is_authenticated
    assert scope["session"].session_key == key
    assert scope["cookies"]["other"] == "1"


@pytest.mark.parametrize("cookie", [None, "", "not-a-session-key-at-all"])
async def test_no_or_unknown_session_is_anonymous(cookie):
    scope = await _scope_for(cookie)
    assert not scope["user"].is_authenticated


async def test_a_session_whose_password_changed_is_anonymous_and_flushed():
    client, user = await database_sync_to_async(_signed_in)()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    user.set_password("Another-pass-2026!")
    await database_sync_to_async(user.save)()
    scope = await _scope_for(key)
    assert not scope["user"].is_authenticated
    assert HASH_SESSION_KEY not in await database_sync_to_async(dict)(scope["session"].items())
