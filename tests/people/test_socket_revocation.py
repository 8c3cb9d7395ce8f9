"""Sockets follow the account: sign-out or deactivation stops delivery and closes them."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from lib.broadcast import user_group
from people.consumers import CLOSE_SESSION_ENDED
from people.models import User

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _signed_in_client(username: str) -> tuple[Client, User]:
    user = User.objects.create_user(username, password="Socket-pass-2026!")
    client = Client()
    client.force_login(user)
    return client, user


async def _connect(client: Client) -> WebsocketCommunicator:
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    comm = WebsocketCommunicator(
        application,
        "/ws/me/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"host", b"localhost"),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_json_from() == {"type": "hello"}
    return comm


async def test_real_session_cookie_connects_and_logout_closes_the_socket():
    client, user = await database_sync_to_async(_signed_in_client)("sock1")
    comm = await _connect(client)
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from() == {"type": "pong"}
    await database_sync_to_async(client.post)("/accounts/logout/")
    output = await comm.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}


async def test_disabled_user_stops_receiving():
    client, user = await database_sync_to_async(_signed_in_client)("sock2")
    comm = await _connect(client)
    user.is_active = False
    await database_sync_to_async(user.save)(update_fields=["is_active"])
    await get_channel_layer().group_send(
        user_group(user.pk), {"type": "user.message", "payload": {"secret": "x"}}
    )
    output = await comm.receive_output(timeout=3)
    assert output["type"] == "websocket.close"
    assert "secret" not in str(output)


async def test_message_after_session_deleted_is_refused():
    client, user = await database_sync_to_async(_signed_in_client)("sock3")
    comm = await _connect(client)
    await database_sync_to_async(client.session.delete)()
    await comm.send_json_to({"type": "ping"})
    output = await comm.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
