"""Lectures, events and attendance for the live tests (and the permission matrix)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid

from django.utils import timezone

from live.audience import do_resolve_audience
from live.models import (
    Attendance,
    AudienceCategory,
    Lecture,
    LectureAudience,
    Makeup,
    MakeupKind,
    PresenceEvent,
)
from live.services import current_policy
from live.webhooks import parse_jaas_event

_numbers = itertools.count(1)


def make_lecture(
    org,
    *,
    start: dt.datetime | None = None,
    minutes: int = 60,
    offices=(),
    persons=(),
    categories=(),
    lecturer=None,
    **fields,
) -> Lecture:
    """A lecture by ``org.lecturer`` (default: tomorrow, one hour, for the east office)."""
    start = (start or timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    lecture = Lecture.objects.create(
        title=fields.pop("title", f"讲座 {next(_numbers)}"),
        lecturer=lecturer or org.lecturer,
        lecturer_title=fields.pop("lecturer_title", "检察官"),
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        **fields,
    )
    if not offices and not persons and not categories:
        offices = (org.east,)
    lecture.audience_offices.add(*offices)
    lecture.audience_persons.add(*persons)
    if categories:
        lecture.audience_categories.add(*AudienceCategory.objects.filter(code__in=categories))
    return lecture


def past_lecture(org, *, hours_ago: float = 3, minutes: int = 60, **kwargs) -> Lecture:
    """A lecture that has ended, its audience fixed."""
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    lecture = make_lecture(org, start=start, minutes=minutes, **kwargs)
    do_resolve_audience(lecture)
    lecture.refresh_from_db()
    return lecture


def pid(lecture: Lecture, person) -> str:
    return LectureAudience.objects.get(lecture=lecture, person=person).participant_id


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def jaas(lecture: Lecture, event_type: str, at: dt.datetime, user_id: str = "", **data) -> dict:
    """A JaaS webhook body for ``lecture``'s room."""
    body = {
        "idempotencyKey": str(uuid.uuid4()),
        "customerId": "c0ffee",
        "appId": "vpaas-magic-cookie-test",
        "fqn": f"vpaas-magic-cookie-test/{lecture.room_name}",
        "eventType": event_type,
        "timestamp": _ms(at),
        "data": {"id": user_id, "participantId": f"conn-{user_id}", **data} if user_id else data,
    }
    return body


def attend(lecture: Lecture, user_id: str, joined: dt.datetime, left: dt.datetime) -> list[dict]:
    """A join and a leave."""
    return [
        jaas(lecture, "PARTICIPANT_JOINED", joined, user_id),
        jaas(lecture, "PARTICIPANT_LEFT", left, user_id, disconnectReason="left"),
    ]


def store(bodies: list[dict]) -> None:
    """Store bodies as the endpoint would (already verified), without the after-commit hook."""
    for body in bodies:
        parsed = parse_jaas_event(json.dumps(body).encode())
        PresenceEvent.objects.create(
            provider=parsed["provider"],
            event_type=parsed["event_type"],
            room_name=parsed["room_name"],
            user_id=parsed["user_id"],
            occurred_at=parsed["occurred_at"],
            payload=parsed["payload"],
            dedupe_key=parsed["dedupe_key"],
        )


# --- Permission matrix samples (tests/security/policies/live.py) --------------------------------


def matrix_lecture(org) -> dict[str, str]:
    """An upcoming lecture by ``lecturer`` for the east office (learner's)."""
    return {"pk": str(make_lecture(org).pk)}


def matrix_running_lecture(org) -> dict[str, str]:
    """A lecture by ``lecturer`` for the east office (learner's), under way for 5 minutes."""
    return {"pk": str(make_lecture(org, start=timezone.now() - dt.timedelta(minutes=5)).pk)}


def matrix_makeup(org) -> dict[str, str]:
    """A makeup of ``learner`` for an ended lecture."""
    lecture = past_lecture(org, hours_ago=30)
    makeup = Makeup.objects.create(
        person=org.person,
        lecture=lecture,
        kind=MakeupKind.LATER_LECTURE,
        due_date=timezone.localdate() + dt.timedelta(days=14),
    )
    return {"pk": str(makeup.pk)}


def matrix_attendance(org) -> dict[str, str]:
    """``learner``'s attendance row of an ended lecture by ``lecturer``."""
    lecture = past_lecture(org, hours_ago=50)
    row = Attendance.objects.create(
        lecture=lecture,
        person=org.person,
        status="absent",
        policy=current_policy(),
        computed_at=timezone.now(),
    )
    return {"pk": str(row.pk)}


def matrix_policy(org) -> dict[str, str]:
    return {"pk": str(current_policy().pk)}
