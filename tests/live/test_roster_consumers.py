"""The lecture socket ``ws/live/<id>/`` (live.consumers) with channels' WebsocketCommunicator."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from config.asgi import application
from config.routing import websocket_urlpatterns
from live import audience
from live.consumers import CLOSE_NOT_FOUND
from live.models import CheckResponseStatus, PresenceCheck, PresenceCheckResponse
from tests.factories import make_org, make_person
from tests.live.helpers import jaas, make_lecture, pid, store

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _setup():
    org = make_org()
    lecture = make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5))
    audience.do_resolve_audience(lecture)
    store([jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), pid(lecture, org.person))])
    return org, lecture


setup = database_sync_to_async(_setup)


def comm_for(user, lecture_pk: int) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/live/{lecture_pk}/")
    comm.scope["user"] = user
    return comm


async def connected(user, lecture_pk: int, role: str) -> WebsocketCommunicator:
    comm = comm_for(user, lecture_pk)
    ok, _ = await comm.connect()
    assert ok
    hello = await comm.receive_json_from()
    assert hello == {"type": "hello", "role": role, "lecture": lecture_pk}
    return comm


async def until(comm: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict:
    """The next message of type ``kind`` (others are skipped)."""
    while True:
        message = await comm.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


# --- Refusals -----------------------------------------------------------------------------------


async def test_anonymous_is_refused():
    _org, lecture = await setup()
    ok, code = await comm_for(AnonymousUser(), lecture.pk).connect()
    assert not ok and code == 4401


@pytest.mark.parametrize("who", ["other_learner", "counselor", "outsider", "editor"])
async def test_not_in_the_audience_is_refused(who):
    org, lecture = await setup()
    ok, code = await comm_for(getattr(org, who), lecture.pk).connect()
    assert not ok and code == CLOSE_NOT_FOUND


async def test_wrong_lecture_is_refused():
    org, lecture = await setup()
    other = await database_sync_to_async(make_lecture)(
        org, start=timezone.now() - dt.timedelta(minutes=5), offices=(org.west,)
    )
    for pk in (other.pk, 987654):
        ok, code = await comm_for(org.learner, pk).connect()
        assert not ok and code == CLOSE_NOT_FOUND


async def test_foreign_origin_is_refused_by_the_real_stack():
    org, lecture = await setup()

    def cookie():
        client = Client()
        client.force_login(org.learner)
        return client.cookies["sessionid"].value

    value = await database_sync_to_async(cookie)()
    base = [(b"host", b"testserver"), (b"cookie", f"sessionid={value}".encode())]
    evil = WebsocketCommunicator(
        application, f"/ws/live/{lecture.pk}/", headers=[(b"origin", b"http://evil.example"), *base]
    )
    ok, _ = await evil.connect()
    assert not ok
    good = WebsocketCommunicator(
        application, f"/ws/live/{lecture.pk}/", headers=[(b"origin", b"http://testserver"), *base]
    )
    ok, _ = await good.connect()
    assert ok
    assert (await good.receive_json_from())["role"] == "attendee"
    await good.disconnect()


# --- Roster and checks --------------------------------------------------------------------------


async def test_lecturer_sees_the_roster_and_attendee_pages_opening_and_closing():
    org, lecture = await setup()
    lecturer = await connected(org.lecturer, lecture.pk, "roster")
    snapshot = await until(lecturer, "roster")
    (row,) = snapshot["rows"]
    assert row == {
        "person": org.person.pk,
        "name": "张*",
        "office": "东司法所",
        "state": "present",
        "check": "",
    }
    assert "presence" not in snapshot

    learner = await connected(org.learner, lecture.pk, "attendee")
    assert await until(lecturer, "row") == {
        "type": "row",
        "person": org.person.pk,
        "state": "present",
    }
    await learner.disconnect()
    # the page closed: the browser's signal takes presence away
    assert await until(lecturer, "row") == {"type": "row", "person": org.person.pk, "state": "left"}
    await lecturer.disconnect()


async def test_check_sent_is_delivered_answered_and_shown_on_the_roster():
    org, lecture = await setup()
    learner = await connected(org.learner, lecture.pk, "attendee")
    lecturer = await connected(org.lecturer, lecture.pk, "roster")
    await until(lecturer, "roster")
    await lecturer.send_json_to({"type": "check.send"})
    queued = await until(lecturer, "check.queued")
    sent = await until(lecturer, "check.sent")
    assert sent["asked"] == [org.person.pk] and sent["check"]["id"] == queued["check"]

    asked = await until(learner, "check")
    assert asked["check"] == queued["check"] and asked["seconds"] == 60
    await learner.send_json_to({"type": "check.answer", "check": asked["check"]})
    assert await until(learner, "check.answer") == {
        "type": "check.answer",
        "status": "answered",
        "check": asked["check"],
    }
    answer = await until(lecturer, "answer")
    assert answer == {"type": "answer", "person": org.person.pk, "check": asked["check"]}
    # answering twice: "already", nothing changes
    await learner.send_json_to({"type": "check.answer", "check": asked["check"]})
    assert (await until(learner, "check.answer"))["status"] == "already"
    status = await database_sync_to_async(
        lambda: PresenceCheckResponse.objects.get(presence_check_id=asked["check"]).status
    )()
    assert status == CheckResponseStatus.ANSWERED
    await learner.disconnect()
    await lecturer.disconnect()


async def test_late_answer_is_stored_as_missed():
    org, lecture = await setup()
    learner = await connected(org.learner, lecture.pk, "attendee")

    def old_check():
        sent = timezone.now() - dt.timedelta(seconds=61)
        check = PresenceCheck.objects.create(
            lecture=lecture,
            sent_by=org.lecturer,
            sent_at=sent,
            expires_at=sent + dt.timedelta(seconds=60),
        )
        PresenceCheckResponse.objects.create(presence_check=check, person=org.person)
        return check

    check = await database_sync_to_async(old_check)()
    await learner.send_json_to({"type": "check.answer", "check": check.pk})
    assert (await until(learner, "check.answer"))["status"] == "missed"
    status = await database_sync_to_async(lambda: check.responses.get().status)()
    assert status == CheckResponseStatus.MISSED
    await learner.disconnect()


async def test_nobody_answers_someone_elses_check():
    org, lecture = await setup()

    def second_person():
        person = make_person(org.east)
        audience.do_resolve_audience(lecture)  # fixed already; add the person by hand
        from live.jitsi import participant_id
        from live.models import LectureAudience

        LectureAudience.objects.create(
            lecture=lecture, person=person, participant_id=participant_id(person.user_id)
        )
        store([jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), pid(lecture, person))])
        return person

    person = await database_sync_to_async(second_person)()
    other = await connected(person.user, lecture.pk, "attendee")
    learner = await connected(org.learner, lecture.pk, "attendee")
    lecturer = await connected(org.lecturer, lecture.pk, "roster")
    await lecturer.send_json_to({"type": "check.send"})
    check = (await until(lecturer, "check.queued"))["check"]
    await until(other, "check")
    # the message names no person: the socket answers for its own user only
    await other.send_json_to({"type": "check.answer", "check": check, "person": org.person.pk})
    assert (await until(other, "check.answer"))["status"] == "answered"
    statuses = await database_sync_to_async(
        lambda: dict(PresenceCheckResponse.objects.values_list("person_id", "status"))
    )()
    assert statuses == {org.person.pk: "asked", person.pk: "answered"}
    # a learner cannot send checks, and a roster viewer cannot answer them
    await learner.send_json_to({"type": "check.send"})
    assert (await until(learner, "error"))["type"] == "error"
    await lecturer.send_json_to({"type": "check.answer", "check": check})
    assert (await until(lecturer, "error"))["type"] == "error"
    for comm in (other, learner, lecturer):
        await comm.disconnect()


async def test_officer_watches_but_may_not_send_checks():
    org, lecture = await setup()
    officer = await connected(org.officer, lecture.pk, "roster")
    snapshot = await until(officer, "roster")
    assert [row["person"] for row in snapshot["rows"]] == [org.person.pk]
    await officer.send_json_to({"type": "check.send"})
    assert await until(officer, "check.refused") == {
        "type": "check.refused",
        "reason": "not_lecturer",
    }
    await officer.disconnect()


async def test_garbage_messages_get_an_error_and_change_nothing():
    org, lecture = await setup()
    learner = await connected(org.learner, lecture.pk, "attendee")
    for text in ("not json", "[]", '{"type": 5}', '{"type": "check.answer", "check": "x"}'):
        await learner.send_to(text_data=text)
        reply = await learner.receive_json_from()
        assert reply["type"] in ("error", "check.answer")
        if reply["type"] == "check.answer":
            assert reply["status"] == "not_asked"
    await learner.disconnect()
