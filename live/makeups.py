"""Makeups: what an absent or left-early person does instead of a required lecture.

A makeup is assigned when a required lecture's effective attendance is absent or left early
(``sync_for_attendance``, called by the attendance recompute and by overrides) and withdrawn
if an override turns it into an attendance before it is done. It is completed either by
watching the recording on the makeup page, with time verified by the same heartbeats and
crediting rule as lessons (``participation.crediting`` / ``participation.crediting``): credited time
>= 80 % of the lecture's length; or by attending a later lecture on the same topic (present
or late there). Completion writes the missed lecture's participation to the ledger with
source ``makeup``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from lib import bulk
from live import ledger
from live.models import (
    ATTENDED,
    NEEDS_MAKEUP,
    Attendance,
    AttendanceStatus,
    Lecture,
    Makeup,
    MakeupKind,
    MakeupWatchSession,
)
from notifications.models import NotificationKind
from notifications.services import notify
from participation.crediting import Session, apply_beat, credit_sessions
from people.models import Person

MAKEUP_DAYS = 14
COMPLETION_SHARE = Decimal("0.8")
MIN_BEAT_INTERVAL = dt.timedelta(seconds=5)


class BeatRejected(Exception):
    """A heartbeat that is not credited (``reason`` says why)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def lecture_seconds(lecture: Lecture) -> int:
    return max(0, int(lecture.duration.total_seconds()))


def completion_seconds(lecture: Lecture) -> int:
    return math.ceil(COMPLETION_SHARE * lecture_seconds(lecture))


# --- Assigning and withdrawing -----------------------------------------------------------------


def do_send_makeup_notices(now: dt.datetime | None = None) -> int:
    """Tell each person of every makeup assigned since the last run (once: ``notified_at``).
    Kept out of the attendance recompute so that it stays a fixed number of queries."""
    now = now or timezone.now()
    sent = 0
    pending = Makeup.objects.open().filter(notified_at__isnull=True)
    for makeup in pending.select_related("person__user", "lecture").order_by("pk"):
        with transaction.atomic():
            notify(
                makeup.person.user,
                kind=NotificationKind.LECTURE,
                title=gettext_noop("Makeup for a lecture: %(title)s"),
                body=gettext_noop(
                    "You missed part of this lecture. Please make it up by %(date)s: watch the "
                    "recording or attend a later lecture on the same topic."
                ),
                url=reverse("live_makeup", args=[makeup.pk]),
                dedupe_key=f"makeup:{makeup.pk}",
                params={"title": makeup.lecture.title[:150], "date": makeup.due_date.isoformat()},
            )
            Makeup.objects.filter(pk=makeup.pk).update(notified_at=now)
        sent += 1
    return sent


def sync_for_attendance(lecture: Lecture, rows: Iterable[Attendance], now: dt.datetime) -> None:
    """Bring makeups in line with ``rows`` (attendance of ``lecture``): assign one to each
    absent or left-early person of a required lecture, withdraw open ones whose person no
    longer needs one, and complete (or reopen) makeups of earlier lectures on the same topic
    that this lecture's attendance settles. Call inside the lecture's row lock."""
    rows = list(rows)
    needing = {r.person_id for r in rows if r.effective_status in NEEDS_MAKEUP and lecture.required}
    person_ids = {r.person_id for r in rows}
    # {person id: (pk, completed_at)} of the lecture's makeups, narrowed here rather than by a
    # list of a thousand ids in the query
    existing = {
        person_id: (pk, completed_at)
        for pk, person_id, completed_at in Makeup.objects.filter(lecture=lecture).values_list(
            "pk", "person_id", "completed_at"
        )
        if person_id in person_ids
    }
    # An excused person keeps a makeup already given (an approved absence usually carries one,
    # ``do_assign_makeup``); attending, or the lecture no longer being required, withdraws it.
    keep = needing | {
        r.person_id
        for r in rows
        if r.effective_status == AttendanceStatus.EXCUSED and lecture.required
    }
    withdraw = [pk for pid, (pk, done) in existing.items() if pid not in keep and done is None]
    if withdraw:
        Makeup.objects.filter(pk__in=withdraw).delete()
    due = timezone.localdate(lecture.end) + dt.timedelta(days=MAKEUP_DAYS)
    kind = MakeupKind.RECORDING if lecture.recording_url else MakeupKind.LATER_LECTURE
    # the person hears of it from send_lecture_reminders
    bulk.insert_rows(
        Makeup,
        ["person", "lecture", "kind", "due_date", "created_at"],
        [(pid, lecture.pk, kind, due, now) for pid in sorted(needing - existing.keys())],
    )
    attended = {r.person_id for r in rows if r.effective_status in ATTENDED}
    _settle_by_later_lecture(lecture, person_ids, attended, now)


def do_assign_makeup(lecture: Lecture, person_id: int, now: dt.datetime | None = None) -> Makeup:
    """The person's makeup for ``lecture``, given now unless they already have one: an approved
    absence usually carries a makeup (``participation.absences``). Same kind as the makeups
    ``sync_for_attendance`` gives, due 14 days after the lecture or after today, whichever is
    later; the person hears of it from ``do_send_makeup_notices``."""
    now = now or timezone.now()
    start_from = max(timezone.localdate(lecture.end), timezone.localdate(now))
    kind = MakeupKind.RECORDING if lecture.recording_url else MakeupKind.LATER_LECTURE
    makeup, _created = Makeup.objects.get_or_create(
        person_id=person_id,
        lecture=lecture,
        defaults={
            "kind": kind,
            "due_date": start_from + dt.timedelta(days=MAKEUP_DAYS),
            "created_at": now,
        },
    )
    return makeup


def withdraw_open_makeup(lecture: Lecture | int, person_id: int) -> int:
    """Withdraw the person's makeup for ``lecture`` unless it is done; how many were removed."""
    _total, removed = (
        Makeup.objects.open()
        .filter(lecture_id=getattr(lecture, "pk", lecture), person_id=person_id)
        .delete()
    )
    return removed.get(Makeup._meta.label, 0)


def _settle_by_later_lecture(
    lecture: Lecture, person_ids: set[int], attended: set[int], now: dt.datetime
) -> None:
    """Attending ``lecture`` completes the person's oldest open makeup of an earlier lecture
    on the same topic; no longer attending it reopens the makeup it had completed."""
    # the makeups this lecture completed, split here rather than by id lists in two queries
    completed = [
        (pk, lecture_id, person_id)
        for pk, lecture_id, person_id in Makeup.objects.filter(
            completed_lecture=lecture
        ).values_list("pk", "lecture_id", "person_id")
        if person_id in person_ids
    ]
    reopened = [(pk, lec, pid) for pk, lec, pid in completed if pid not in attended]
    for _pk, lecture_id, person_id in reopened:
        ledger.remove_makeup(lecture_id, person_id)
    if reopened:
        Makeup.objects.filter(pk__in=[pk for pk, _lec, _pid in reopened]).update(
            completed_at=None, completed_how="", completed_lecture=None
        )
    already = {pid for _pk, _lec, pid in completed if pid in attended}
    candidates = (
        Makeup.objects.open()
        .filter(
            person_id__in=attended - already,
            lecture__topic=lecture.topic,
            lecture__end__lte=lecture.start,
        )
        .exclude(lecture=lecture)
        .select_related("lecture")
        .order_by("person_id", "lecture__start", "pk")
    )
    settled: set[int] = set()
    for makeup in candidates:
        if makeup.person_id in settled:
            continue
        settled.add(makeup.person_id)
        _complete(makeup, MakeupKind.LATER_LECTURE, now, later=lecture, minutes=0)


# --- Completing ------------------------------------------------------------------------------


def _complete(
    makeup: Makeup, how: str, now: dt.datetime, *, later: Lecture | None = None, minutes: int
) -> None:
    """Mark ``makeup`` done and restore the missed lecture's participation in the ledger (in the
    lecture's month, source ``makeup``). Minutes: those of the recording not already counted
    for the lecture itself; none for a later lecture (its own entry counts its time)."""
    makeup.completed_at = now
    makeup.completed_how = how
    makeup.completed_lecture = later
    makeup.save(update_fields=["completed_at", "completed_how", "completed_lecture"])
    ledger.record_makeup(makeup.lecture, makeup.person_id, minutes)


def _recording_minutes(makeup: Makeup, credited: int) -> int:
    attended = (
        Attendance.objects.filter(lecture=makeup.lecture, person_id=makeup.person_id)
        .values_list("seconds", flat=True)
        .first()
        or 0
    )
    return max(0, min(credited, lecture_seconds(makeup.lecture)) - attended) // 60


# --- Watching the recording ------------------------------------------------------------------


def access_makeup_for_learner(user, pk: int) -> Makeup:
    """The signed-in person's own makeup; Http404 for anyone else's or a missing one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    makeup = (
        Makeup.objects.filter(pk=pk, person__user=user).select_related("lecture", "person").first()
    )
    if makeup is None:
        raise Http404
    return makeup


def credited_seconds(makeup: Makeup) -> int:
    rows = MakeupWatchSession.objects.filter(makeup=makeup).values_list(
        "tab", "started_at", "last_beat_at"
    )
    sessions = (Session(makeup.pk, tab, started, last) for tab, started, last in rows)
    return credit_sessions(sessions, {makeup.pk: lecture_seconds(makeup.lecture)}).get(makeup.pk, 0)


def do_record_watch_heartbeat(makeup: Makeup, tab: str, now: dt.datetime | None = None) -> Makeup:
    """One heartbeat from the makeup page while the recording plays (server clock only).

    Same rule as lesson heartbeats: a beat within 30 s of the tab's last one extends its
    session, a longer gap starts a new one, overlapping tabs count once, credit is capped at
    1.5 × the lecture's length. Completes the makeup at 80 % of the lecture's length. Raises
    BeatRejected("too_fast") for a beat under 5 s after the tab's previous one, and
    BeatRejected("no_recording") when the lecture has no recording."""
    if not makeup.lecture.recording_url:
        raise BeatRejected("no_recording")
    now = now or timezone.now()
    beat = {"lesson": makeup.pk, "tab": tab, "at": now}
    with transaction.atomic():
        makeup = Makeup.objects.select_for_update().select_related("lecture").get(pk=makeup.pk)
        row = (
            MakeupWatchSession.objects.select_for_update()
            .filter(makeup=makeup, tab=tab, is_open=True)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    MakeupWatchSession.objects.create(
                        makeup=makeup, tab=tab, started_at=now, last_beat_at=now
                    )
            except IntegrityError as error:
                raise BeatRejected("too_fast") from error
        else:
            if now - row.last_beat_at < MIN_BEAT_INTERVAL:
                raise BeatRejected("too_fast")
            current = Session(makeup.pk, tab, row.started_at, row.last_beat_at)
            _opened, closed = apply_beat(current, beat)
            if closed is None:
                MakeupWatchSession.objects.filter(pk=row.pk, last_beat_at__lt=now).update(
                    last_beat_at=now
                )
            else:
                MakeupWatchSession.objects.filter(pk=row.pk).update(is_open=False)
                MakeupWatchSession.objects.create(
                    makeup=makeup, tab=tab, started_at=now, last_beat_at=now
                )
        credited = credited_seconds(makeup)
        if credited != makeup.credited_seconds:
            makeup.credited_seconds = credited
            makeup.save(update_fields=["credited_seconds"])
        if makeup.completed_at is None and credited >= completion_seconds(makeup.lecture):
            _complete(
                makeup,
                MakeupKind.RECORDING,
                now,
                minutes=_recording_minutes(makeup, credited),
            )
    return makeup


def open_makeups_for_person(person: Person, limit: int = 5) -> list[Makeup]:
    return list(
        Makeup.objects.open()
        .for_person(person)
        .select_related("lecture")
        .order_by("due_date")[:limit]
    )


def later_lectures_for(makeup: Makeup, now: dt.datetime | None = None) -> list[Lecture]:
    """Upcoming lectures on the same topic the person is in the audience of."""
    return list(
        Lecture.objects.for_person(makeup.person)
        .upcoming(now)
        .filter(topic=makeup.lecture.topic, start__gte=makeup.lecture.end)
        .exclude(pk=makeup.lecture_id)[:3]
    )
