"""Webhook bodies for roll-call rooms, as JaaS and prosody send them."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from live.webhooks import parse_jaas_event, parse_prosody_event
from rollcall.models import RollCallTarget


def jaas_body(target: RollCallTarget, event_type: str, at: dt.datetime, user_id: str = "") -> dict:
    body = {
        "idempotencyKey": str(uuid.uuid4()),
        "customerId": "c0ffee",
        "appId": "vpaas-magic-cookie-test",
        "fqn": f"vpaas-magic-cookie-test/{target.room_name}",
        "eventType": event_type,
        "timestamp": int(at.timestamp() * 1000),
        "data": {"id": user_id, "participantId": f"conn-{user_id}"} if user_id else {},
    }
    return body


def prosody_joined(target: RollCallTarget, at: dt.datetime, user_id: str) -> dict:
    return {
        "event_name": "muc-occupant-joined",
        "room_name": target.room_name,
        "room_jid": f"{target.room_name}@conference.meet.example.org",
        "occupant": {
            "id": user_id,
            "name": "x",
            "occupant_jid": f"{target.room_name}@conference.meet.example.org/abcd",
            "joined_at": int(at.timestamp()),
        },
    }


def prosody_left(target: RollCallTarget, joined: dt.datetime, left: dt.datetime, user_id: str):
    body = prosody_joined(target, joined, user_id)
    body["event_name"] = "muc-occupant-left"
    body["occupant"]["left_at"] = int(left.timestamp())
    return body


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def parsed_jaas(body: dict):
    return parse_jaas_event(raw(body))


def parsed_prosody(body: dict):
    return parse_prosody_event(raw(body))


def matrix_target(org) -> dict[str, str]:
    """A call to ``learner`` (east office) the video server saw them join, room still open."""
    from django.utils import timezone

    from live.jitsi import participant_id
    from rollcall.models import CallKind, RollCall, TargetState

    now = timezone.now()
    call = RollCall.objects.create(kind=CallKind.SINGLE, started_by=org.officer, office=org.east)
    target = RollCallTarget.objects.create(
        call=call,
        person=org.person,
        state=TargetState.JOINED,
        participant_id=participant_id(org.learner.pk),
        rung_at=now,
        deadline=now + dt.timedelta(minutes=5),
        closes_at=now + dt.timedelta(minutes=15),
        joined_at=now,
        result="in_time",
        policy_version=1,
    )
    return {"pk": str(target.pk)}


def matrix_call(org) -> dict[str, str]:
    target = RollCallTarget.objects.get(pk=matrix_target(org)["pk"])
    return {"pk": str(target.call_id)}
