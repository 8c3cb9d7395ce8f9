"""``lib.broadcast.send_to_group``: after commit only, and never failing the caller."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from lib.broadcast import send_to_group, send_to_users, user_group

pytestmark = pytest.mark.django_db


def test_the_message_goes_out_on_commit_only(django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("board.1", channel)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_to_group("board.1", {"type": "rollcall.rows", "rows": []})
    assert len(callbacks) == 1  # queued for the commit, not sent at once
    assert async_to_sync(layer.receive)(channel) == {"type": "rollcall.rows", "rows": []}


def test_a_rolled_back_change_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                send_to_group("board.2", {"type": "rollcall.rows", "rows": []})
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []


def test_a_down_layer_does_not_fail_the_caller(monkeypatch, django_capture_on_commit_callbacks):
    layer = get_channel_layer()

    async def down(group, message):
        raise ConnectionError("redis down")

    monkeypatch.setattr(layer, "group_send", down)
    with django_capture_on_commit_callbacks(execute=True):
        send_to_group("board.3", {"type": "rollcall.rows", "rows": []})


def test_many_users_are_sent_to_in_one_trip_and_a_failed_send_drops_only_its_own(
    monkeypatch, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channels = {}
    for user_id in (1, 2, 3):
        channels[user_id] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user_id), channels[user_id])
    real = layer.group_send

    async def flaky(group, message):
        if group == user_group(2):
            raise ConnectionError("redis down")
        await real(group, message)

    monkeypatch.setattr(layer, "group_send", flaky)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_to_users([(1, {"n": 1}), (2, {"n": 2}), (3, {"n": 3})])
    assert len(callbacks) == 1
    for user_id in (1, 3):
        message = async_to_sync(layer.receive)(channels[user_id])
        assert message == {"type": "user.message", "payload": {"n": user_id}}
