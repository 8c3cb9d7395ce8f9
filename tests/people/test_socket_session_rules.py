"""Sockets obey the session's rules, as an HTTP request does (people.consumers): staff past the
second step only, the idle clock, and the password the session was signed in with."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from lib.broadcast import user_group
from lib.session_store import SessionStore
from people import consumers
from people.consumers import CLOSE_SESSION_ENDED, allowed_sockets
from people.middleware import LAST_ACTIVITY_KEY
from tests.factories import login_staff, make_totp_device

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _client(user, *, verified: bool) -> Client:
    client = Client()
    if verified:
        login_staff(client, user)
    else:
        client.force_login(user)
    return client


def _key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _set_clock(client: Client, seconds_ago: int) -> None:
    session = SessionStore(_key(client))
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds_ago
    session.save()


def _communicator(client: Client, path: str = "/ws/me/") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"origin", b"http://localhost"),
            (b"host", b"localhost"),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={_key(client)}".encode()),
        ],
    )


async def _connected(client: Client) -> WebsocketCommunicator:
    comm = _communicator(client)
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_json_from() == {"type": "hello"}
    return comm


async def _refused(client: Client, path: str = "/ws/me/") -> bool:
    comm = _communicator(client, path)
    connected, _ = await comm.connect()
    if connected:
        await comm.disconnect()
    return not connected


# --- The second step ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lecturer", "counselor", "officer", "administrator", "editor"])
def test_password_only_staff_cannot_open_a_socket(org, role):
    user = getattr(org, role)
    make_totp_device(user)  # has a device, has not used it in this session
    assert async_to_sync(_refused)(_client(user, verified=False))
    assert not async_to_sync(_refused)(_client(user, verified=True))


def test_a_session_naming_someone_elses_device_is_not_past_the_second_step(org):
    client = _client(org.officer, verified=False)
    device = make_totp_device(org.lecturer)
    session = SessionStore(_key(client))
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert async_to_sync(_refused)(client)


def test_learners_need_no_second_step(org):
    assert not async_to_sync(_refused)(_client(org.learner, verified=False))


def test_allowed_sockets_needs_the_second_step_for_staff_only(org, django_assert_max_num_queries):
    learner = _client(org.learner, verified=False)
    staff_only_password = _client(org.officer, verified=False)
    staff = _client(org.lecturer, verified=True)
    owners = [
        (org.learner.pk, _key(learner)),
        (org.officer.pk, _key(staff_only_password)),
        (org.lecturer.pk, _key(staff)),
    ]
    with django_assert_max_num_queries(3):  # users, sessions, TOTP devices
        allowed = allowed_sockets(owners)
    assert allowed == {owners[0], owners[2]}


# --- The idle clock -------------------------------------------------------------------------------


def test_a_staff_socket_idle_past_its_limit_is_closed_at_the_next_message(org):
    client = _client(org.lecturer, verified=True)

    async def run():
        comm = await _connected(client)
        await database_sync_to_async(_set_clock)(client, 990)  # limit 900 s
        await get_channel_layer().group_send(
            user_group(org.lecturer.pk), {"type": "user.message", "payload": {"roster": "x"}}
        )
        assert await comm.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_SESSION_ENDED,
        }

    async_to_sync(run)()


def test_an_idle_session_cannot_open_a_socket_and_learners_have_longer(org):
    staff = _client(org.lecturer, verified=True)
    _set_clock(staff, 990)
    assert async_to_sync(_refused)(staff)
    learner = _client(org.learner, verified=False)
    _set_clock(learner, 990)  # learners: 30 minutes
    assert not async_to_sync(_refused)(learner)
    _set_clock(learner, 1810)
    assert async_to_sync(_refused)(learner)


def test_a_message_from_the_page_moves_the_idle_clock_on(org, monkeypatch):
    client = _client(org.lecturer, verified=True)
    monkeypatch.setattr(consumers, "TOUCH_INTERVAL", 0)  # the socket's own once-a-minute

    async def run():
        comm = await _connected(client)
        await database_sync_to_async(_set_clock)(client, 600)
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from() == {"type": "pong"}
        await comm.disconnect()

    async_to_sync(run)()
    last = SessionStore(_key(client))[LAST_ACTIVITY_KEY]
    assert int(time.time()) - last < 5


# --- The password ---------------------------------------------------------------------------------


def test_a_password_changed_in_another_session_ends_the_socket_at_the_next_message(org):
    client = _client(org.learner, verified=False)
    other = _client(org.learner, verified=False)

    async def run():
        comm = await _connected(client)
        response = await database_sync_to_async(other.post)(
            "/accounts/password/",
            {
                "old_password": "unused",
                "new_password1": "x",
                "new_password2": "x",
            },
        )
        assert response.status_code == 200  # a wrong form changes nothing: still open
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from() == {"type": "pong"}

        def change_password():
            org.learner.set_password("A-new-password-2026!")
            org.learner.save(update_fields=["password"])

        await database_sync_to_async(change_password)()
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_SESSION_ENDED,
        }

    async_to_sync(run)()
