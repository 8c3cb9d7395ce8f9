"""The video server's events for roll-call rooms, through live's webhook endpoints."""

from __future__ import annotations

import datetime as dt

import pytest

from live.models import PresenceEvent
from rollcall import services
from rollcall.models import RollCallTarget
from rollcall.presence import do_update_from_events
from tests.live.conftest import post_jaas, post_prosody
from tests.rollcall.helpers import jaas_body, prosody_joined, prosody_left, raw

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(org):
    return services.do_start_call(org.officer, [org.person]).targets[0]


def post(client, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return post_jaas(client, raw(body))


def test_a_jaas_join_marks_the_person_joined_in_time(
    client, target, django_capture_on_commit_callbacks, board_pushes
):
    at = target.rung_at + dt.timedelta(minutes=2)
    response = post(
        client,
        jaas_body(target, "PARTICIPANT_JOINED", at, target.participant_id),
        django_capture_on_commit_callbacks,
    )
    assert response.json() == {"status": "stored"}
    target.refresh_from_db()
    assert (target.state, target.result) == ("joined", "in_time")
    assert abs(target.joined_at - at) < dt.timedelta(seconds=1)
    assert target.left_at is None
    board = [row for group, row in board_pushes if group == f"rollcall.{target.call_id}"]
    assert board and board[-1]["state"] == "joined"


def test_a_late_join_is_late_and_a_leave_is_recorded(
    client, target, django_capture_on_commit_callbacks
):
    joined = target.rung_at + dt.timedelta(minutes=7)
    left = joined + dt.timedelta(minutes=3)
    for body in (
        jaas_body(target, "PARTICIPANT_JOINED", joined, target.participant_id),
        jaas_body(target, "PARTICIPANT_LEFT", left, target.participant_id),
    ):
        post(client, body, django_capture_on_commit_callbacks)
    target.refresh_from_db()
    assert target.result == "late"
    assert abs(target.left_at - left) < dt.timedelta(seconds=1)


def test_prosody_events_count_the_same_and_a_replay_changes_nothing(
    client, target, django_capture_on_commit_callbacks
):
    joined = target.rung_at + dt.timedelta(minutes=1)
    body = prosody_joined(target, joined, target.participant_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_prosody(client, raw(body)).json() == {"status": "stored"}
    with django_capture_on_commit_callbacks(execute=True):
        assert post_prosody(client, raw(body)).json() == {"status": "duplicate"}
    assert PresenceEvent.objects.filter(room_name=target.room_name).count() == 1
    target.refresh_from_db()
    assert (target.state, target.result) == ("joined", "in_time")
    # prosody repeats the join in the leave; the whole room recomputed twice gives one answer
    left = prosody_left(target, joined, joined + dt.timedelta(minutes=2), target.participant_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_prosody(client, raw(left))
    first = RollCallTarget.objects.get(pk=target.pk)
    do_update_from_events(target.room_name)
    again = RollCallTarget.objects.get(pk=target.pk)
    assert (first.joined_at, first.left_at, first.result) == (
        again.joined_at,
        again.left_at,
        again.result,
    )


def test_an_unknown_roll_call_room_is_refused_clearly(client):
    fake = RollCallTarget(room_name="rollcall-" + "0" * 24)
    body = jaas_body(fake, "PARTICIPANT_JOINED", dt.datetime.now(dt.UTC), "someone")
    response = post_jaas(client, raw(body))
    assert response.status_code == 422
    assert response.json() == {"status": "rejected", "reason": "unknown roll-call room"}
    assert not PresenceEvent.objects.exists()


def test_a_stranger_in_the_room_is_refused(client, target):
    body = jaas_body(target, "PARTICIPANT_JOINED", target.rung_at, "not-the-person")
    response = post_jaas(client, raw(body))
    assert (response.status_code, response.json()["reason"]) == (422, "unknown user id")
    assert not PresenceEvent.objects.exists()


def test_the_officers_events_are_accepted_once_they_had_a_token(client, org, target):
    services.do_join(org.officer, target, moderator=True)
    target.refresh_from_db()
    officer_id = target.staff_participants[0]
    body = jaas_body(target, "PARTICIPANT_JOINED", target.rung_at, officer_id)
    assert post_jaas(client, raw(body)).status_code == 200
    target.refresh_from_db()
    assert target.state == "ringing"  # the officer's presence is not the person's


def test_events_of_a_finished_roll_call_are_refused(client, org, target):
    services.do_excuse(target, org.officer, note="住院")
    body = jaas_body(target, "PARTICIPANT_JOINED", target.rung_at, target.participant_id)
    response = post_jaas(client, raw(body))
    assert (response.status_code, response.json()["reason"]) == (422, "roll-call is over")
    target.refresh_from_db()
    assert target.result == "excused"


def test_a_delayed_join_from_before_the_close_turns_a_missed_call_around(
    client, target, django_capture_on_commit_callbacks
):
    do_update_from_events(target.room_name, now=target.closes_at)
    target.refresh_from_db()
    assert target.result == "missed"
    at = target.rung_at + dt.timedelta(minutes=4)
    post(
        client,
        jaas_body(target, "PARTICIPANT_JOINED", at, target.participant_id),
        django_capture_on_commit_callbacks,
    )
    target.refresh_from_db()
    assert (target.state, target.result) == ("joined", "in_time")
    # but a join after the room closed proves nothing
    late = target.closes_at + dt.timedelta(minutes=1)
    response = post_jaas(
        client, raw(jaas_body(target, "PARTICIPANT_JOINED", late, target.participant_id))
    )
    assert response.status_code == 200  # the call is not over: it was answered


def test_lecture_rooms_still_work_as_before(client):
    body = {
        "idempotencyKey": "k1",
        "fqn": "app/lecture-unknown",
        "eventType": "PARTICIPANT_JOINED",
        "timestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000),
        "data": {"id": "x"},
    }
    response = post_jaas(client, raw(body))
    assert (response.status_code, response.json()["reason"]) == (422, "unknown room")
