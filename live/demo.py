"""Demo lectures for ``seed_demo``: one past lecture whose attendance comes from recorded
JaaS events replayed through the real webhook endpoint, and one upcoming lecture.

The recorded events are a template (``live/fixtures/demo_lecture.jsonl``): ``{room}`` and
``{lecture}`` inside strings, ``"{ms:+N}"`` (N seconds after the lecture's start, as JaaS
milliseconds) and ``"{pid:USERNAME}"`` (that user's participant id) as whole values. They are
filled in for the demo lecture and posted with ``replay_events``, signed with
``JAAS_WEBHOOK_SECRET`` (a one-off secret when none is configured), so the demo attendance
goes through signature checks, room and participant checks, storage and the recompute
exactly as a real lecture's would.

Idempotent: lectures are found by lecturer and title; events are deduplicated by their keys.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tempfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from courses.models import Topic
from live import jitsi
from live.audience import do_resolve_audience
from live.models import Attendance, Lecture, LectureAudience, LectureMode
from live.services import check_presence_event, do_recompute_attendance, do_store_presence_event
from live.webhooks import parse_jaas_event
from people.models import Office, Person, User

TEMPLATE = Path(__file__).parent / "fixtures" / "demo_lecture.jsonl"
_WHOLE = re.compile(r"\{(ms|pid):([^}]+)\}")

PAST = {
    "title": "《社区矫正法》专题讲座",
    "topic": Topic.LEGAL,
    "lecturer_title": "检察官",
    "description": "检察官结合真实案例，讲解社区矫正对象的权利、义务和报告制度。",
    "minutes": 120,
}
UPCOMING = {
    "title": "预防电信网络诈骗：不做“工具人”",
    "topic": Topic.LEGAL,
    "lecturer_title": "民警",
    # A guest speaker: lecturer1 (a prosecutor) hosts the room, the police officer speaks.
    "lecturer_name": "孙伟",
    "description": "民警讲解出租出借银行卡、电话卡的法律后果，以及如何识别诈骗。",
    "minutes": 90,
}


def _local(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _lecture(
    spec: dict,
    lecturer: User,
    start: dt.datetime,
    offices: list[Office],
    persons: list[Person] = (),
    recording_url: str = "",
) -> Lecture:
    lecture = Lecture.objects.filter(lecturer=lecturer, title=spec["title"]).first()
    if lecture is None:
        lecture = Lecture.objects.create(
            recording_url=recording_url,
            title=spec["title"],
            topic=spec["topic"],
            description=spec["description"],
            lecturer=lecturer,
            lecturer_title=spec["lecturer_title"],
            lecturer_name=spec.get("lecturer_name", ""),
            start=start,
            end=start + dt.timedelta(minutes=spec["minutes"]),
            mode=LectureMode.BOTH,
            location="区社区矫正中心二楼报告厅",
            created_by=lecturer,
        )
        lecture.audience_offices.add(*offices)
        lecture.audience_persons.add(*persons)
    return lecture


def render_events(lecture: Lecture, participant_ids: dict[str, str]) -> list[dict[str, Any]]:
    """The template's records filled in for ``lecture``; ``participant_ids`` maps usernames."""
    start_ms = int(lecture.start.timestamp() * 1000)

    def fill(value):
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if not isinstance(value, str):
            return value
        whole = _WHOLE.fullmatch(value)
        if whole and whole[1] == "ms":
            return start_ms + int(whole[2]) * 1000
        if whole:
            return participant_ids[whole[2]]
        return value.replace("{room}", lecture.room_name).replace("{lecture}", str(lecture.pk))

    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    return [fill(json.loads(line)) for line in lines if line.strip()]


def replay_demo_events(lecture: Lecture) -> str:
    """Post the demo events for ``lecture`` through ``/live/hooks/jaas/``; the command's
    summary line."""
    do_resolve_audience(lecture)
    ids = dict(
        LectureAudience.objects.filter(lecture=lecture).values_list(
            "person__user__username", "participant_id"
        )
    )
    ids[lecture.lecturer.username] = jitsi.participant_id(lecture.lecturer_id)
    records = render_events(lecture, ids)
    out = StringIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo_events.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
        secret = settings.JAAS_WEBHOOK_SECRET or f"whsec_demo_{secrets.token_hex(16)}"
        with override_settings(JAAS_WEBHOOK_SECRET=secret):
            call_command("replay_events", str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def seed_lectures(today: dt.date | None = None) -> list[tuple[str, str]]:
    """One past lecture with replayed attendance (东城司法所) and one upcoming lecture (all
    offices), both by ``lecturer1``. Needs ``seed_people`` first; does nothing without it."""
    lecturer = User.objects.filter(username="lecturer1").first()
    bureau = Office.objects.filter(code="bureau").first()
    dongcheng = Office.objects.filter(code="dongcheng").first()
    if lecturer is None or bureau is None or dongcheng is None:
        return []
    today = today or timezone.localdate()
    past = _lecture(PAST, lecturer, _local(today - dt.timedelta(days=7), 9), [dongcheng])
    if not Attendance.objects.filter(lecture=past).exists():
        replay_demo_events(past)
        # the ROOM_DESTROYED event computed it; make sure even if that event was a duplicate
        past.refresh_from_db()
        if past.attendance_computed_at is None or past.attendance_stale:
            do_recompute_attendance(past)
    _lecture(UPCOMING, lecturer, _local(today + dt.timedelta(days=2), 10), [bureau])
    return []


# A person's connections to a past lecture: (joined, left) in seconds after its start.
Presence = list[tuple[int, int]]


def _jaas_body(lecture: Lecture, key: str, event: str, at: dt.datetime, data: dict) -> bytes:
    body = {
        "idempotencyKey": f"demo-{lecture.pk}-{key}",
        "customerId": "demo",
        "appId": "vpaas-magic-cookie-demo",
        "fqn": f"vpaas-magic-cookie-demo/{lecture.room_name}",
        "eventType": event,
        "timestamp": int(at.timestamp() * 1000),
        "data": data,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def seed_past_lecture(
    spec: dict,
    lecturer: User,
    start: dt.datetime,
    presence: dict[Person, Presence],
    recording_url: str = "",
    prepare: Callable[[Lecture], None] | None = None,
) -> Lecture:
    """A past lecture for the named ``presence`` persons (its audience: those under
    supervision that day), its JaaS join and leave events stored through the same checks
    and store as the webhook's (``check_presence_event``, ``do_store_presence_event``) and
    its attendance computed (ledger and makeups follow). A person with no connections was
    absent. ``prepare(lecture)`` runs before the events (leave asked for beforehand).
    Idempotent: a lecture whose attendance is computed is left alone."""
    lecture = _lecture(spec, lecturer, start, [], list(presence), recording_url)
    if lecture.attendance_computed_at is not None:
        return lecture
    if prepare is not None:
        prepare(lecture)
    do_resolve_audience(lecture, start)
    bodies = [
        _jaas_body(
            lecture,
            "lecturer-in",
            "PARTICIPANT_JOINED",
            start - dt.timedelta(minutes=15),
            {"id": jitsi.participant_id(lecturer.pk), "name": "主讲人", "moderator": True},
        )
    ]
    for person, connections in presence.items():
        pid = jitsi.participant_id(person.user_id)
        for number, (joined, left) in enumerate(connections):
            data = {"id": pid, "name": "学员", "moderator": False, "participantId": f"c{number}"}
            for event, at in (("PARTICIPANT_JOINED", joined), ("PARTICIPANT_LEFT", left)):
                key = f"{person.pk}-{number}-{event[12:].lower()}"
                bodies.append(
                    _jaas_body(lecture, key, event, start + dt.timedelta(seconds=at), data)
                )
    for body in bodies:
        parsed = parse_jaas_event(body)
        check_presence_event(parsed, now=start)
        do_store_presence_event(parsed)
    do_recompute_attendance(lecture)
    return lecture
