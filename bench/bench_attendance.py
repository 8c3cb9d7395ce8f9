"""Attendance recompute for a 1,000-person lecture with 10 events each (10,000 stored
``PresenceEvent`` rows, JaaS bodies, stored in shuffled arrival order).

Ours: one query for the room's events as stored (``live.services.read_room_events``: the few
``merge_*`` columns each event's body was read into when it was stored, not the 10,000 JSON
bodies), then ``live.attendance.merge_read``; the note gives ``merge_presence`` of the raw
bodies too (the same result, checked).
Naive baseline: walk the stored events one by one through the ORM and, for every leave,
query the same participant's latest join before it (a webhook handler that pairs each leave
with its join as it comes, with no interval logic): one query per leave, 5,000 in all. It
knows nothing of reconnects, switches, missing leaves or gaps; the data is chosen so that
both give the same seconds, which the benchmark checks.

Second row, the full service path: ``live.services.do_recompute_attendance`` for a 1,000-person
lecture (persons, fixed audience and 10,000 events in the database) from the events to the
stored ``Attendance`` rows, the participation ledger and the makeups, in one transaction;
every timed run starts with no attendance, ledger or makeup rows, so each one writes them
all. Naive baseline: the same work per event and per person through the ORM — for every
leave a query for its join, then ``update_or_create`` of each person's attendance, ledger
entry and makeup (about 6,000 queries). Both must store the same status and seconds.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bench.common import best_of

PERSONS = 1000
SITTINGS = 5  # a join and a leave each: 10 events per person
ROOM = "bench-attendance-0123456789abcdef"
APP_ID = "vpaas-magic-cookie-00000000000000000000000000000000"
START = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
SITTING = timedelta(minutes=20)
BREAK = timedelta(minutes=4)  # longer than the 90 s bridge, so no rule differs


def _body(kind: str, user: str, conn: str, at: datetime, key: str) -> dict:
    data = {
        "moderator": False,
        "name": user,
        "group": "",
        "id": user,
        "participantJid": f"{conn}@meet.jitsi/x",
        "participantId": conn,
    }
    if kind == "PARTICIPANT_LEFT":
        data["disconnectReason"] = "left"
    return {
        "idempotencyKey": key,
        "customerId": "00000000000000000000000000000000",
        "appId": APP_ID,
        "sessionId": "bench-session",
        "fqn": f"{APP_ID}/{ROOM}",
        "eventType": kind,
        "timestamp": int(at.timestamp() * 1000),
        "data": data,
    }


def _setup() -> None:
    from live.models import PresenceEvent

    if PresenceEvent.objects.filter(room_name=ROOM).exists():
        return
    rows = []
    for person in range(PERSONS):
        user = f"bench{person:04d}"
        for sitting in range(SITTINGS):
            joined = START + sitting * (SITTING + BREAK) + timedelta(seconds=person % 60)
            conn = f"{person:04d}{sitting}"
            for kind, at in (
                ("PARTICIPANT_JOINED", joined),
                ("PARTICIPANT_LEFT", joined + SITTING),
            ):
                key = f"bench-{person}-{sitting}-{kind[12]}"
                rows.append(
                    PresenceEvent(
                        provider="jaas",
                        event_type=kind,
                        room_name=ROOM,
                        user_id=user,
                        occurred_at=at,
                        payload=_body(kind, user, conn, at, key),
                        dedupe_key=f"jaas:{key}",
                    )
                )
    random.Random(2026).shuffle(rows)  # webhooks arrive out of order
    for row in rows:
        row.set_merge_fields()  # as save() does for each webhook
    PresenceEvent.objects.bulk_create(rows, batch_size=1000)


def run() -> list[dict]:
    from live.attendance import merge_presence, merge_read
    from live.models import PresenceEvent
    from live.services import read_room_events

    _setup()

    def ours() -> dict[str, int]:
        return {u: s["seconds"] for u, s in merge_read(read_room_events(ROOM), START, END).items()}

    def naive() -> dict[str, int]:
        seconds: dict[str, int] = defaultdict(int)
        for event in PresenceEvent.objects.filter(room_name=ROOM).order_by("received_at", "id"):
            if event.event_type != "PARTICIPANT_LEFT":
                continue
            join = (
                PresenceEvent.objects.filter(
                    room_name=ROOM,
                    user_id=event.user_id,
                    event_type="PARTICIPANT_JOINED",
                    occurred_at__lte=event.occurred_at,
                )
                .order_by("-occurred_at")
                .first()
            )
            if join is not None:
                since, until = max(join.occurred_at, START), min(event.occurred_at, END)
                seconds[event.user_id] += max(0, int((until - since).total_seconds()))
        return dict(seconds)

    expected = ours()
    assert len(expected) == PERSONS
    assert set(expected.values()) == {SITTINGS * int(SITTING.total_seconds())}, expected
    assert naive() == expected

    def from_bodies() -> dict:
        bodies = PresenceEvent.objects.filter(room_name=ROOM).values_list("payload", flat=True)
        return merge_presence(list(bodies), START, END)

    read = read_room_events(ROOM)
    assert merge_read(read, START, END) == from_bodies()
    began = time.perf_counter()
    merge_read(read, START, END)
    merge_only = time.perf_counter() - began
    return [
        {
            "name": f"attendance recompute ({PERSONS:,} persons, {len(read):,} events)",
            "ours": best_of(ours),
            "naive": best_of(naive, repeat=1),
            "note": f"1 query of stored columns + merge_read (merge alone {merge_only * 1000:.0f} "
            f"ms; from the raw bodies {best_of(from_bodies) * 1000:.0f} ms) vs a query per leave",
        },
        _service_row(),
    ]


# --- The full service path ----------------------------------------------------------------------

SERVICE_ROOM = "bench-attendance-service-0123456789"
SERVICE_BREAK = timedelta(seconds=60)  # bridged: everyone attends the whole sitting time
SERVICE_START = START
SERVICE_END = START + 5 * SITTING + 4 * SERVICE_BREAK


def _service_setup():
    """1,000 persons of one office, a lecture with its audience fixed, 10 events each."""
    from django.contrib.auth import get_user_model

    from live.models import Lecture, LectureAudience, PresenceEvent
    from people.models import Category, Office, Person

    lecture = Lecture.objects.filter(room_name=SERVICE_ROOM).first()
    if lecture is not None:
        return lecture
    User = get_user_model()
    office = Office.add_root(name="基准司法所", code="bench-office")
    lecturer = User.objects.create_user(username="bench-lecturer", name="讲师")
    unusable = "!"  # no password: these accounts never sign in
    User.objects.bulk_create(
        [
            User(username=f"bench-s-{n:04d}", name=f"学员{n:04d}", password=unusable)
            for n in range(PERSONS)
        ],
        batch_size=500,
    )
    users = list(User.objects.filter(username__startswith="bench-s-").order_by("username"))
    day = START.date()
    Person.objects.bulk_create(
        [
            Person(
                user=user,
                case_number=f"BENCH-{n:05d}",
                full_name=user.name,
                office=office,
                category=Category.NORMAL,
                supervision_start=day,
                supervision_end=day + timedelta(days=365),
            )
            for n, user in enumerate(users)
        ],
        batch_size=500,
    )
    persons = list(Person.objects.filter(office=office).order_by("case_number"))
    lecture = Lecture.objects.create(
        title="基准讲座",
        lecturer=lecturer,
        start=SERVICE_START,
        end=SERVICE_END,
        room_name=SERVICE_ROOM,
        audience_resolved_at=SERVICE_START,
    )
    LectureAudience.objects.bulk_create(
        [
            LectureAudience(lecture=lecture, person=p, participant_id=f"svc{n:04d}")
            for n, p in enumerate(persons)
        ],
        batch_size=500,
    )
    rows = []
    for n in range(PERSONS):
        user = f"svc{n:04d}"
        # one in ten leaves after the third sitting: left early, so makeups are written too
        sittings = 3 if n % 10 == 0 else SITTINGS
        for sitting in range(SITTINGS):
            joined = SERVICE_START + sitting * (SITTING + SERVICE_BREAK)
            left = joined + SITTING if sitting < sittings else joined + timedelta(seconds=1)
            for kind, at in (("PARTICIPANT_JOINED", joined), ("PARTICIPANT_LEFT", left)):
                key = f"svc-{n}-{sitting}-{kind[12]}"
                body = _body(kind, user, f"{n:04d}{sitting}", at, key)
                body["fqn"] = f"{APP_ID}/{SERVICE_ROOM}"
                rows.append(
                    PresenceEvent(
                        provider="jaas",
                        event_type=kind,
                        room_name=SERVICE_ROOM,
                        user_id=user,
                        occurred_at=at,
                        payload=body,
                        dedupe_key=f"jaas:{key}",
                    )
                )
    random.Random(2027).shuffle(rows)
    for row in rows:
        row.set_merge_fields()  # as save() does for each webhook
    PresenceEvent.objects.bulk_create(rows, batch_size=1000)
    return lecture


def _reset(lecture) -> None:
    from live.ledger import lecture_key
    from live.models import Attendance, Lecture, Makeup
    from participation.models import ParticipationRecord

    Attendance.objects.filter(lecture=lecture).delete()
    Makeup.objects.filter(lecture=lecture).delete()
    ParticipationRecord.objects.filter(requirement_key=lecture_key(lecture)).delete()
    Lecture.objects.filter(pk=lecture.pk).update(attendance_computed_at=None)


def _stored(lecture) -> dict[int, tuple[str, int]]:
    from live.models import Attendance

    rows = Attendance.objects.filter(lecture=lecture).values_list("person_id", "status", "seconds")
    return {person: (status, seconds) for person, status, seconds in rows}


def _naive_service(lecture, now) -> None:
    """Per event and per person through the ORM: what the service replaces."""
    from django.db import transaction

    from live.attendance import PolicyRules, decide
    from live.ledger import lecture_key, ledger_period
    from live.models import Attendance, LectureAudience, Makeup, MakeupKind, PresenceEvent
    from live.services import current_policy
    from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus

    policy = current_policy()
    rules = PolicyRules.from_dict(policy.rules)
    with transaction.atomic():
        for audience in LectureAudience.objects.filter(lecture=lecture):
            intervals = []
            leaves = PresenceEvent.objects.filter(
                room_name=lecture.room_name,
                user_id=audience.participant_id,
                event_type="PARTICIPANT_LEFT",
            ).order_by("occurred_at")
            for leave in leaves:
                join = (
                    PresenceEvent.objects.filter(
                        room_name=lecture.room_name,
                        user_id=audience.participant_id,
                        event_type="PARTICIPANT_JOINED",
                        occurred_at__lte=leave.occurred_at,
                    )
                    .order_by("-occurred_at")
                    .first()
                )
                if join is not None:
                    since = max(join.occurred_at, lecture.start)
                    until = min(leave.occurred_at, lecture.end)
                    if intervals and (since - intervals[-1][1]) < timedelta(seconds=90):
                        intervals[-1] = (intervals[-1][0], max(until, intervals[-1][1]))
                    elif until > since:
                        intervals.append((since, until))
            seconds = sum(int((b - a).total_seconds()) for a, b in intervals)
            summary = {"seconds": seconds, "intervals": intervals} if intervals else None
            decision = decide(summary, start=lecture.start, end=lecture.end, rules=rules)
            row, _ = Attendance.objects.update_or_create(
                lecture=lecture,
                person_id=audience.person_id,
                defaults={
                    "status": decision.status,
                    "seconds": seconds,
                    "figures": decision.figures,
                    "policy": policy,
                    "computed_at": now,
                },
            )
            if decision.status in ("present", "late", "left_early"):
                ParticipationRecord.objects.update_or_create(
                    person_id=audience.person_id,
                    source=ParticipationSource.LECTURE,
                    requirement_key=lecture_key(lecture),
                    defaults={
                        "period": ledger_period(lecture),
                        "requirement": lecture.title,
                        "minutes": seconds // 60,
                        "status": ParticipationStatus.COMPLETED
                        if decision.status != "left_early"
                        else ParticipationStatus.IN_PROGRESS,
                    },
                )
            if decision.status in ("absent", "left_early"):
                Makeup.objects.get_or_create(
                    person_id=audience.person_id,
                    lecture=lecture,
                    defaults={"kind": MakeupKind.LATER_LECTURE, "due_date": now.date()},
                )


def _service_row() -> dict:
    from django.db import connection
    from django.utils import timezone

    from live.services import do_recompute_attendance

    lecture = _service_setup()
    now = timezone.now()

    def timed(fn, repeat: int) -> tuple[float, dict]:
        # CPU time too: on a shared machine the wall time is mostly waiting for a core
        best, cpu, result, queries = float("inf"), float("inf"), {}, 0
        for _ in range(repeat):
            _reset(lecture)
            count = [0]

            def counter(execute, sql, params, many, context, count=count):
                count[0] += 1
                return execute(sql, params, many, context)

            with connection.execute_wrapper(counter):
                began, began_cpu = time.perf_counter(), time.process_time()
                fn(lecture, now)
                best = min(best, time.perf_counter() - began)
                cpu = min(cpu, time.process_time() - began_cpu)
            queries = count[0]
            result = _stored(lecture)
        return best, {"result": result, "queries": queries, "cpu": cpu}

    ours, ours_info = timed(do_recompute_attendance, 5)
    naive, naive_info = timed(_naive_service, 1)
    statuses = {status for status, _ in ours_info["result"].values()}
    assert len(ours_info["result"]) == PERSONS and statuses == {"present", "left_early"}, statuses
    assert ours_info["result"] == naive_info["result"]
    return {
        "name": f"attendance recompute, service ({PERSONS:,} persons, {PERSONS * 10:,} events)",
        "ours": ours,
        "naive": naive,
        "note": f"do_recompute_attendance: {ours_info['queries']} queries, "
        f"{ours_info['cpu'] * 1000:.0f} ms CPU, writes Attendance + ledger + makeups; naive per "
        f"event/person ORM: {naive_info['queries']} queries, {naive_info['cpu'] * 1000:.0f} ms CPU",
    }
