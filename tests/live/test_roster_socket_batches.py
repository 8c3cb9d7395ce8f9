"""A roster viewer's socket re-checks its account and session before pushing changes, in
batches: every change arrives, in order, and none once the account is disabled."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.routing import websocket_urlpatterns
from live import audience, roster
from people import consumers
from people.models import User
from tests.factories import make_org
from tests.live.helpers import jaas, make_lecture, pid, store

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _setup():
    org = make_org()
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    audience.do_resolve_audience(lecture)
    store([jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), pid(lecture, org.person))])
    return org, lecture


async def _viewer(org, lecture) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/live/{lecture.pk}/")
    comm.scope["user"] = org.lecturer
    ok, _ = await comm.connect()
    assert ok
    assert (await comm.receive_json_from())["type"] == "hello"
    assert (await comm.receive_json_from())["type"] == "roster"
    return comm


async def _page_events(lecture, person_id: int, count: int) -> None:
    layer = get_channel_layer()
    for i in range(count):  # one page opening and closing again and again
        await layer.group_send(
            roster.staff_group(lecture.pk),
            {"type": "roster.socket", "person": person_id, "channel": "page", "open": i % 2 == 0},
        )


async def test_every_change_arrives_in_order_after_few_rechecks(monkeypatch):
    org, lecture = await database_sync_to_async(_setup)()
    viewer = await _viewer(org, lecture)
    calls = []
    real = consumers.allowed_sockets

    def counting(owners):
        calls.append(len(owners))
        time.sleep(0.05)  # a slow database: changes queue up behind the re-check
        return real(owners)

    monkeypatch.setattr(consumers, "allowed_sockets", counting)
    await _page_events(lecture, org.person.pk, 40)
    rows = [await viewer.receive_json_from(timeout=3) for _ in range(40)]
    assert rows == [
        {"type": "row", "person": org.person.pk, "state": state}
        for state in [roster.PRESENT, roster.LEFT] * 20
    ]
    assert 1 <= len(calls) < 40
    await viewer.disconnect()


async def test_disabled_viewer_gets_no_changes():
    org, lecture = await database_sync_to_async(_setup)()
    viewer = await _viewer(org, lecture)
    await database_sync_to_async(User.objects.filter(pk=org.lecturer.pk).update)(is_active=False)
    await _page_events(lecture, org.person.pk, 3)
    assert await viewer.receive_nothing(timeout=0.5)
    await viewer.send_json_to({"type": "ping"})
    assert await viewer.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
