"""The board socket of a call, ``ws/rollcall/<id>/`` (rollcall.consumers), on the in-memory
channel layer with channels' WebsocketCommunicator."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from audit.models import AccessEvent, Action
from config.routing import websocket_urlpatterns
from live.jitsi import participant_id
from people.roles import Role
from rollcall import services
from rollcall.consumers import CLOSE_NOT_FOUND
from rollcall.models import CallKind, RollCall, RollCallTarget, TargetState
from rollcall.presence import do_update_from_events
from tests.factories import make_org, make_person, make_user
from tests.live.helpers import store
from tests.rollcall.helpers import jaas_body

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _setup():
    """A ringing group call to two persons: ``org.person`` (east) and one in west."""
    org = make_org()
    org.east_officer2 = make_user("east_officer2", Role.OFFICER, office=org.east)
    west_learner = make_user("west_learner_rc")
    west_person = make_person(org.west, west_learner, case_officer=org.other_officer)
    now = timezone.now()
    call = RollCall.objects.create(kind=CallKind.GROUP, started_by=org.administrator)
    org.call = call
    org.target, org.west_target = (
        RollCallTarget.objects.create(
            call=call,
            person=person,
            state=TargetState.RINGING,
            participant_id=participant_id(person.user_id),
            rung_at=now,
            deadline=now + dt.timedelta(minutes=5),
            closes_at=now + dt.timedelta(minutes=15),
            policy_version=1,
        )
        for person in (org.person, west_person)
    )
    return org


setup = database_sync_to_async(_setup)


def comm_for(user, call_pk: int) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/rollcall/{call_pk}/")
    comm.scope["user"] = user
    return comm


async def connected(user, call_pk: int) -> tuple[WebsocketCommunicator, list[dict]]:
    """An open board socket and the rows it sent on opening."""
    comm = comm_for(user, call_pk)
    ok, _ = await comm.connect()
    assert ok
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello" and hello["call"] == call_pk
    rows = [await comm.receive_json_from() for _ in range(hello["targets"])]
    return comm, rows


async def test_two_officers_of_the_office_both_see_a_join():
    org = await setup()
    first, rows = await connected(org.officer, org.call.pk)
    second, _ = await connected(org.east_officer2, org.call.pk)
    # only the rows of persons they see (the east one), as they are now
    assert [(row["target"], row["state"]) for row in rows] == [(org.target.pk, "ringing")]

    at = org.target.rung_at + dt.timedelta(minutes=1)

    def join():
        store([jaas_body(org.target, "PARTICIPANT_JOINED", at, org.target.participant_id)])
        do_update_from_events(org.target.room_name)

    await database_sync_to_async(join)()
    for comm in (first, second):
        row = await comm.receive_json_from(timeout=3)
        assert row["type"] == "rollcall.target"
        assert (row["call"], row["target"], row["state"], row["result"]) == (
            org.call.pk,
            org.target.pk,
            "joined",
            "in_time",
        )
        assert row["joined_at"]
    # neither of them started the call nor confirmed: the board serves every viewer

    await database_sync_to_async(services.do_confirm)(
        await database_sync_to_async(RollCallTarget.objects.get)(pk=org.target.pk),
        org.east_officer2,
        confirmation="seen",
    )
    for comm in (first, second):
        row = await comm.receive_json_from(timeout=3)
        assert (row["target"], row["state"]) == (org.target.pk, "confirmed")
    for comm in (first, second):
        await comm.disconnect()


async def test_each_viewer_gets_only_the_rows_of_persons_they_see():
    org = await setup()
    east, _ = await connected(org.officer, org.call.pk)
    admin, rows = await connected(org.administrator, org.call.pk)
    assert {row["target"] for row in rows} == {org.target.pk, org.west_target.pk}

    west = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.west_target.pk)
    await database_sync_to_async(services.do_excuse)(west, org.administrator, note="in hospital")
    row = await admin.receive_json_from(timeout=3)
    assert (row["target"], row["state"], row["result"]) == (west.pk, "excused", "excused")
    assert await east.receive_nothing(timeout=0.3)
    for comm in (east, admin):
        await comm.disconnect()


async def test_missed_and_not_possible_reach_the_board(monkeypatch):
    org = await setup()
    comm, _ = await connected(org.administrator, org.call.pk)

    def close_east():
        RollCallTarget.objects.filter(pk=org.target.pk).update(
            closes_at=timezone.now() - dt.timedelta(seconds=1),
            rung_at=timezone.now() - dt.timedelta(minutes=16),
        )
        do_update_from_events(org.target.room_name)

    await database_sync_to_async(close_east)()
    row = await comm.receive_json_from(timeout=3)
    assert (row["target"], row["state"], row["result"]) == (org.target.pk, "missed", "missed")

    monkeypatch.setattr("live.jitsi.server_reachable", lambda: False)
    west = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.west_target.pk)
    with pytest.raises(services.CallEnded):
        await database_sync_to_async(services.do_join)(org.administrator, west, moderator=True)
    row = await comm.receive_json_from(timeout=3)
    assert (row["target"], row["state"]) == (west.pk, "not_possible")
    await comm.disconnect()


async def test_a_new_call_rings_on_its_board():
    org = await setup()

    def start():
        return services.do_start_call(org.officer, [org.other_person_in_east], server_up=True)

    def extra_person():
        org.other_person_in_east = make_person(org.east, make_user("east_learner_rc"))

    await database_sync_to_async(extra_person)()
    # the board of a call opens only once it exists; its group gets the start's rows
    layer = get_channel_layer()
    channel = await layer.new_channel()
    call_pk = await database_sync_to_async(lambda: RollCall.objects.order_by("-pk")[0].pk + 1)()
    await layer.group_add(services.board_group(call_pk), channel)
    result = await database_sync_to_async(start)()
    assert result.call.pk == call_pk
    message = await layer.receive(channel)
    assert message["type"] == "rollcall.rows"
    assert [(row["target"], row["state"]) for row in message["rows"]] == [
        (result.targets[0].pk, "ringing")
    ]


async def test_an_officer_of_another_office_cannot_subscribe():
    org = await setup()
    # the west officer sees the west person, but not in this east-only call
    east_only = await database_sync_to_async(
        lambda: RollCall.objects.create(kind=CallKind.SINGLE, started_by=org.officer)
    )()
    await database_sync_to_async(RollCallTarget.objects.filter(pk=org.target.pk).update)(
        call=east_only
    )
    comm = comm_for(org.other_officer, east_only.pk)
    ok, code = await comm.connect()
    assert not ok and code == CLOSE_NOT_FOUND
    # nothing reaches a refused socket: the group does not hold it
    target = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.target.pk)
    await database_sync_to_async(services.do_excuse)(target, org.officer, note="ill")
    assert await comm.receive_nothing(timeout=0.3)


@pytest.mark.parametrize("who", ["learner", "counselor", "lecturer", "outsider", "editor"])
async def test_who_may_not_make_calls_is_refused_and_logged(who):
    org = await setup()
    user = getattr(org, who)
    ok, code = await comm_for(user, org.call.pk).connect()
    assert not ok and code == CLOSE_NOT_FOUND
    denied = await database_sync_to_async(
        AccessEvent.objects.filter(user_id=user.pk, action=Action.DENIED).count
    )()
    assert denied == 1


async def test_an_unauthenticated_socket_is_refused():
    org = await setup()
    ok, code = await comm_for(AnonymousUser(), org.call.pk).connect()
    assert not ok and code == 4401


async def test_an_unknown_call_is_refused():
    org = await setup()
    ok, code = await comm_for(org.officer, org.call.pk + 1000).connect()
    assert not ok and code == CLOSE_NOT_FOUND


async def test_the_opening_is_logged_and_a_disabled_account_stops_receiving():
    org = await setup()
    comm, _ = await connected(org.officer, org.call.pk)
    viewed = await database_sync_to_async(
        AccessEvent.objects.filter(
            user_id=org.officer.pk, action=Action.VIEW, object_id=str(org.call.pk)
        ).count
    )()
    assert viewed == 1
    await database_sync_to_async(type(org.officer).objects.filter(pk=org.officer.pk).update)(
        is_active=False
    )
    target = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.target.pk)
    await database_sync_to_async(services.do_excuse)(target, org.administrator, note="ill")
    output = await comm.receive_output(timeout=3)
    assert output["type"] == "websocket.close"


async def test_ping_and_nonsense():
    org = await setup()
    comm, _ = await connected(org.officer, org.call.pk)
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from() == {"type": "pong"}
    await comm.send_to(text_data="not json")
    assert (await comm.receive_json_from())["type"] == "error"
    await comm.disconnect()


async def test_rows_arriving_during_a_recheck_share_the_next_one_and_keep_their_order(
    monkeypatch,
):
    from people import consumers

    org = await setup()
    comm, _ = await connected(org.officer, org.call.pk)
    checks = []
    real = consumers.allowed_sockets
    all_sent = threading.Event()

    def counted(owners, now=None):
        checks.append(len(list(owners)))
        # a re-check lasts until every row is sent, on either layer (on Redis each send is a
        # round trip, and a quick re-check would otherwise end before the next row arrives)
        all_sent.wait(timeout=10)
        return real(owners, now)

    monkeypatch.setattr(consumers, "allowed_sockets", counted)
    layer = get_channel_layer()
    for n in range(20):
        row = {**services.board_payload(org.target), "result": f"r{n}"}
        await layer.group_send(
            services.board_group(org.call.pk), {"type": "rollcall.rows", "rows": [row]}
        )
    all_sent.set()
    received = [await comm.receive_json_from(timeout=5) for _ in range(20)]
    assert [row["result"] for row in received] == [f"r{n}" for n in range(20)]
    # the rows that came during the first re-check share the next ones: one re-check per row
    # was the old way (20); the in-memory layer hands them over at once (2), Redis's reader in
    # a batch or two (2-3)
    assert 1 <= len(checks) <= 5
    await comm.disconnect()


async def test_an_officer_moved_to_another_office_stops_getting_the_old_offices_rows(
    monkeypatch,
):
    from rollcall import consumers

    monkeypatch.setattr(consumers, "SCOPE_EVERY", 0.0)  # read the scope before every delivery
    org = await setup()
    comm, rows = await connected(org.east_officer2, org.call.pk)
    assert [row["target"] for row in rows] == [org.target.pk]

    def move_to_west():
        org.east_officer2.office = org.west
        org.east_officer2.save(update_fields=["office"])

    await database_sync_to_async(move_to_west)()
    east = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.target.pk)
    await database_sync_to_async(services.do_excuse)(east, org.administrator, note="ill")
    assert await comm.receive_nothing(timeout=0.5)  # the east person is no longer theirs
    west = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.west_target.pk)
    await database_sync_to_async(services.do_excuse)(west, org.administrator, note="away")
    row = await comm.receive_json_from(timeout=3)
    assert (row["target"], row["state"]) == (west.pk, "excused")
    await comm.disconnect()


async def test_a_viewer_who_sees_nobody_in_the_call_any_more_is_closed(monkeypatch):
    from rollcall import consumers

    monkeypatch.setattr(consumers, "SCOPE_EVERY", 0.0)
    org = await setup()
    comm, _ = await connected(org.east_officer2, org.call.pk)

    def no_longer_an_officer():
        org.east_officer2.groups.clear()

    await database_sync_to_async(no_longer_an_officer)()
    east = await database_sync_to_async(RollCallTarget.objects.get)(pk=org.target.pk)
    await database_sync_to_async(services.do_excuse)(east, org.administrator, note="ill")
    output = await comm.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
