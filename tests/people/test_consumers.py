from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from config.asgi import application
from config.routing import websocket_urlpatterns
from lib.broadcast import user_group
from people.models import User

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def communicator(user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/me/")
    comm.scope["user"] = user
    return comm


async def test_signed_in_user_connects_and_pings():
    user = await database_sync_to_async(User.objects.create_user)("ws-user", password="x")
    comm = communicator(user)
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_json_from() == {"type": "hello"}
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from() == {"type": "pong"}
    await comm.send_to(text_data="not json")
    assert (await comm.receive_json_from())["type"] == "error"
    await comm.disconnect()


async def test_group_message_reaches_the_user():
    from channels.layers import get_channel_layer

    user = await database_sync_to_async(User.objects.create_user)("ws-user2", password="x")
    comm = communicator(user)
    await comm.connect()
    await comm.receive_json_from()
    await get_channel_layer().group_send(
        user_group(user.pk), {"type": "user.message", "payload": {"type": "notice", "n": 1}}
    )
    assert await comm.receive_json_from() == {"type": "notice", "n": 1}
    await comm.disconnect()


async def test_anonymous_is_refused():
    comm = communicator(AnonymousUser())
    connected, code = await comm.connect()
    assert not connected
    assert code == 4401


async def test_foreign_origin_is_refused_by_the_real_stack():
    comm = WebsocketCommunicator(
        application, "/ws/me/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await comm.connect()
    assert not connected
