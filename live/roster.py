"""The live roster of a running lecture and its presence checks.

Who is in the room comes from the video server (``PresenceEvent`` intervals still open,
through ``merge_presence``); the lecture page's websocket is a browser signal and may only
take presence away (a closed page), never add it. A presence check is asked of everyone the
server shows in the room when the lecturer sends it; each must answer within
``CHECK_WINDOW`` over the socket. Unanswered checks are closed as missed by the next check,
the roster's refresh, ``close_presence_checks`` (cron) or the attendance recompute, whichever
comes first, so closing never depends on a timer in a worker.

Group names: ``lecture_group`` holds the attendees' sockets, ``staff_group`` the roster
viewers'. Messages carry ids and masked names only.

Naming follows the house contract: ``access_*`` fetches and checks permission, ``do_*``
writes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections, router, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from live.attendance import merge_presence
from live.audience import audience_participant_ids, do_resolve_audience, in_audience
from live.models import (
    JOIN_OPENS_BEFORE,
    CheckResponseStatus,
    Lecture,
    LectureAudience,
    LectureMode,
    PresenceCheck,
    PresenceCheckResponse,
    PresenceEvent,
)
from people.models import Person
from people.names import mask_name_for_peers
from people.roles import Role, roles_of

log = logging.getLogger(__name__)

CHECK_WINDOW = dt.timedelta(seconds=60)
# A server interval whose end lies this close to "now" is still open (merge_presence narrows
# interval ends to whole seconds).
OPEN_SLACK = dt.timedelta(seconds=2)

# Roster states, in the order the page lists them.
PRESENT, LEFT, NOT_JOINED = "present", "left", "not_joined"
STATES = (PRESENT, LEFT, NOT_JOINED)
# ``Lecture.online``
ONLINE_MODES = (LectureMode.ONLINE, LectureMode.BOTH)


def lecture_group(lecture_id: int) -> str:
    return f"live.{lecture_id}.attendees"


def staff_group(lecture_id: int) -> str:
    return f"live.{lecture_id}.staff"


# --- Who may open the lecture's socket --------------------------------------------------------


class CheckRefused(Exception):
    """A presence check cannot be sent now; ``reason`` is a stable code for the page."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SocketAccess:
    lecture: Lecture
    person: Person | None  # the attendee, or None for a roster viewer
    # persons a roster viewer sees (None: the whole audience: lecturer, superuser)
    scope_ids: frozenset[int] | None = None

    @property
    def is_staff(self) -> bool:
        return self.person is None


def may_watch_roster(user, lecture: Lecture) -> bool:
    """The lecturer, a superuser, or an officer / administrator with
    ``live.view_attendance`` who sees the lecture (``Lecture.objects.visible_to``)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser or lecture.lecturer_id == user.pk:
        return True
    if not roles_of(user) & {Role.OFFICER, Role.ADMINISTRATOR}:
        return False
    if not user.has_perm("live.view_attendance"):
        return False
    return Lecture.objects.visible_to(user).filter(pk=lecture.pk).exists()


def roster_scope(user, lecture: Lecture) -> frozenset[int] | None:
    """The audience members a roster viewer sees: everyone for the lecturer and superusers,
    else the persons in the viewer's scope (``Person.objects.visible_to``)."""
    if user.is_superuser or lecture.lecturer_id == user.pk:
        return None
    return frozenset(
        LectureAudience.objects.filter(
            lecture=lecture, person__in=Person.objects.visible_to(user)
        ).values_list("person_id", flat=True)
    )


def access_lecture_socket(user, pk: int, now: dt.datetime | None = None) -> SocketAccess:
    """The lecture socket's access for ``user``; Http404 for anyone else (a lecture's
    existence is not revealed).

    An audience member connects as an attendee during the join window (15 minutes before
    the start to the end) of an online lecture; the roster's viewers
    (``may_watch_roster``) at any time."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    lecture = Lecture.objects.filter(pk=pk).first()
    if lecture is None:
        raise Http404
    if lecture.lecturer_id != user.pk:
        # the common case first, in as few queries as a join storm allows: an audience member
        now = now or timezone.now()
        person = Person.objects.filter(user=user).select_related("office").first()
        if (
            person is not None
            and lecture.online
            and lecture.start - JOIN_OPENS_BEFORE <= now < lecture.end
            and in_audience(lecture, person)
        ):
            return SocketAccess(lecture=lecture, person=person)
    if may_watch_roster(user, lecture):
        return SocketAccess(lecture=lecture, person=None, scope_ids=roster_scope(user, lecture))
    raise Http404


# Written out once, like ``lib.session_store``: compiling the equivalent ORM query costs
# about 3 ms of CPU, two hundred times running it, and a join storm runs it per handshake.
# The reference is ``access_lecture_socket`` + ``open_check_for`` (tests/live/test_socket_access).
_ATTENDEE_SQL = """
SELECT a.person_id, c.id, c.expires_at
FROM live_lectureaudience a
JOIN live_lecture l ON l.id = a.lecture_id
JOIN people_person p ON p.id = a.person_id
LEFT JOIN live_presencecheckresponse r ON r.id = (
    SELECT r2.id FROM live_presencecheckresponse r2
    JOIN live_presencecheck c2 ON c2.id = r2.presence_check_id
    WHERE r2.person_id = a.person_id AND r2.status = %s AND c2.lecture_id = a.lecture_id
      AND c2.closed_at IS NULL AND c2.expires_at > %s
    ORDER BY r2.id LIMIT 1
)
LEFT JOIN live_presencecheck c ON c.id = r.presence_check_id
WHERE a.lecture_id = %s AND p.user_id = %s AND l.audience_resolved_at IS NOT NULL
  AND l.mode IN (%s, %s) AND l.start <= %s AND l."end" > %s
  AND (l.lecturer_id IS NULL OR l.lecturer_id <> %s)
ORDER BY a.id LIMIT 1
"""


def access_attendee_socket(
    user_id: int, pk: int, now: dt.datetime | None = None
) -> tuple[int, dict | None] | None:
    """The join storm's shortcut to ``access_lecture_socket`` + ``open_check_for``, in one
    query: ``(person id, pending check message or None)`` when ``user_id`` may connect to
    lecture ``pk`` as an attendee and the lecture's audience is fixed; None otherwise, when
    the caller must ask ``access_lecture_socket`` (who may still be an attendee of a lecture
    whose audience is not fixed yet, a roster viewer, or nobody)."""
    now = now or timezone.now()
    connection = connections[router.db_for_read(LectureAudience)]
    at = connection.ops.adapt_datetimefield_value
    params = [
        CheckResponseStatus.ASKED.value,
        at(now),
        pk,
        user_id,
        *(mode.value for mode in ONLINE_MODES),
        at(now + JOIN_OPENS_BEFORE),
        at(now),
        user_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ATTENDEE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    person_id, check_id, expires_at = row
    if check_id is None:
        return person_id, None
    if isinstance(expires_at, str):  # SQLite: text in UTC
        expires_at = parse_datetime(expires_at)
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, dt.UTC)
    return person_id, {
        "type": "check",
        "check": check_id,
        "expires_at": expires_at.isoformat(),
        "seconds": max(0, int((expires_at - now).total_seconds())),
    }


# --- The video server's view of the room -------------------------------------------------------


def server_presence(lecture: Lecture, now: dt.datetime | None = None) -> dict[int, bool]:
    """``{person id: in the room now}`` for every audience member the video server has seen
    since the join window opened (absent: never seen). Uses the same merge as attendance, up
    to ``now``."""
    now = now or timezone.now()
    since = lecture.start - JOIN_OPENS_BEFORE
    # a little past now, so that a join a moment ago already gives a whole second
    until = min(now + OPEN_SLACK, lecture.end)
    if until <= since:
        return {}
    audience = dict(
        LectureAudience.objects.filter(lecture=lecture).values_list("participant_id", "person_id")
    )
    if not audience:
        audience = audience_participant_ids(lecture)
    payloads = (
        PresenceEvent.objects.filter(room_name=lecture.room_name)
        .order_by()
        .values_list("payload", flat=True)
    )
    merged = merge_presence(list(payloads), since, until)
    found: dict[int, bool] = {}
    for participant_id, summary in merged.items():
        person_id = audience.get(participant_id)
        if person_id is None or not summary["intervals"]:
            continue
        last_end = summary["intervals"][-1][1]
        found[person_id] = now < lecture.end and last_end >= until - OPEN_SLACK
    return found


def roster_state(in_room: bool | None, sockets_seen: bool, sockets_open: bool) -> str:
    """One person's roster state. ``in_room``: the server's view (None: never seen).
    The page's socket only shortens: a person whose sockets were all seen closing is not
    present, and an open socket without the server's presence counts for nothing."""
    if in_room is None:
        return NOT_JOINED
    if in_room and (sockets_open or not sockets_seen):
        return PRESENT
    return LEFT


def roster_snapshot(
    access: SocketAccess,
    *,
    open_sockets: set[int],
    seen_sockets: set[int],
    now: dt.datetime | None = None,
) -> dict:
    """The roster as the lecturer's page shows it: every expected person (masked name,
    office), their state, and their answer to the latest check. ``open_sockets`` /
    ``seen_sockets``: persons whose lecture page is open now / was seen by this viewer."""
    now = now or timezone.now()
    lecture = access.lecture
    do_close_expired_checks(lecture, now)
    presence = server_presence(lecture, now)
    audience = LectureAudience.objects.filter(lecture=lecture).select_related("person__office")
    if access.scope_ids is not None:
        audience = audience.filter(person_id__in=access.scope_ids)
    latest = PresenceCheck.objects.filter(lecture=lecture).order_by("-sent_at", "-pk").first()
    answers = (
        dict(latest.responses.values_list("person_id", "status")) if latest is not None else {}
    )
    rows = []
    counts = dict.fromkeys(STATES, 0)
    for entry in audience.order_by("person__office__path", "person__full_name", "person_id"):
        person = entry.person
        state = roster_state(
            presence.get(person.pk), person.pk in seen_sockets, person.pk in open_sockets
        )
        counts[state] += 1
        rows.append(
            {
                "person": person.pk,
                "name": mask_name_for_peers(person.full_name),
                "office": person.office.name,
                "state": state,
                "check": answers.get(person.pk, ""),
            }
        )
    return {
        "type": "roster",
        "lecture": lecture.pk,
        "expected": len(rows),
        "counts": counts,
        "rows": rows,
        "check": _check_summary(latest, now),
        "resolved": lecture.audience_resolved_at is not None,
        # the server's view, kept by the consumer to update single rows (not sent)
        "presence": presence,
    }


# --- Presence checks -----------------------------------------------------------------------------


def _check_summary(check: PresenceCheck | None, now: dt.datetime) -> dict | None:
    if check is None:
        return None
    counts = dict.fromkeys(CheckResponseStatus.values, 0)
    for status in check.responses.values_list("status", flat=True):
        counts[status] += 1
    return {
        "id": check.pk,
        "sent_at": check.sent_at.isoformat(),
        "expires_at": check.expires_at.isoformat(),
        "open": check.closed_at is None and now < check.expires_at,
        "counts": counts,
    }


def open_check_for(
    lecture: Lecture | int, person: Person | int, now: dt.datetime | None = None
) -> dict | None:
    """The page message for a check ``person`` still has to answer (a reconnecting page
    shows it again), or None. Instances or ids (a socket keeps ids)."""
    now = now or timezone.now()
    response = (
        PresenceCheckResponse.objects.filter(
            presence_check__lecture=lecture,
            person=person,
            status=CheckResponseStatus.ASKED,
            presence_check__closed_at__isnull=True,
            presence_check__expires_at__gt=now,
        )
        .select_related("presence_check")
        .first()
    )
    if response is None:
        return None
    check = response.presence_check
    return {
        "type": "check",
        "check": check.pk,
        "expires_at": check.expires_at.isoformat(),
        "seconds": max(0, int((check.expires_at - now).total_seconds())),
    }


def notify_roster_changed(room_name: str, now: dt.datetime | None = None) -> None:
    """Tell the roster viewers of a running lecture that the video server reported news
    (``live.services.on_presence_event``). Never raises."""
    now = now or timezone.now()
    ids = Lecture.objects.filter(room_name=room_name, end__gt=now).values_list("pk", flat=True)
    layer = get_channel_layer()
    if layer is None:
        return
    for pk in ids:
        try:
            async_to_sync(layer.group_send)(staff_group(pk), {"type": "roster.changed"})
        except Exception:
            log.warning("channel layer unavailable; roster of lecture %s not told", pk)


def check_message(check: PresenceCheck, asked: list[int]) -> dict:
    """The group message that puts a check in front of every asked attendee; the socket
    forwards it only to persons in ``asked``.

    ``asked`` travels as one string (``",3,17,25,"``): a channel layer copies a message once
    per socket (the in-memory layer deep-copies it, a list of a thousand ids a thousand
    times), and a string is copied for free."""
    return {
        "type": "check.asked",
        "check": check.pk,
        "expires_at": check.expires_at.isoformat(),
        "seconds": int((check.expires_at - check.sent_at).total_seconds()),
        "asked": "," + "".join(f"{pk}," for pk in asked),
    }


def is_asked(message: dict, person_id: int) -> bool:
    """Whether a ``check_message`` is for ``person_id``."""
    return f",{person_id}," in message["asked"]


def group_send_on_commit(group: str, message: dict) -> None:
    """Send ``message`` to ``group`` after the transaction commits; never raises (a down
    channel layer must not undo a stored check)."""

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            log.warning("channel layer unavailable; message to %s dropped", group)

    transaction.on_commit(_send)


def do_send_presence_check(lecture: Lecture, by, now: dt.datetime | None = None) -> PresenceCheck:
    """Ask everyone the video server shows in the room now to answer within
    ``CHECK_WINDOW``: one ``PresenceCheck`` and an ``asked`` response per person, then one
    group message to the attendees' sockets after commit. Raises ``CheckRefused`` outside
    the lecture or in its last ``CHECK_WINDOW`` (``not_running``: every check closes before
    the end, so the attendance computed at the end sees all answers), while another check is
    open (``check_open``) or when nobody is in the room (``nobody_present``). Expired checks
    are closed first."""
    now = now or timezone.now()
    if not (lecture.start <= now and now + CHECK_WINDOW <= lecture.end):
        raise CheckRefused("not_running")
    do_close_expired_checks(lecture, now)
    with transaction.atomic():
        locked = Lecture.objects.select_for_update().get(pk=lecture.pk)
        if locked.audience_resolved_at is None:
            do_resolve_audience(locked, now)
        if PresenceCheck.objects.filter(lecture=locked, closed_at__isnull=True).exists():
            raise CheckRefused("check_open")
        asked = sorted(pk for pk, in_room in server_presence(locked, now).items() if in_room)
        if not asked:
            raise CheckRefused("nobody_present")
        check = PresenceCheck.objects.create(
            lecture=locked, sent_by=by, sent_at=now, expires_at=now + CHECK_WINDOW
        )
        PresenceCheckResponse.objects.bulk_create(
            [PresenceCheckResponse(presence_check=check, person_id=pk) for pk in asked]
        )
        group_send_on_commit(lecture_group(lecture.pk), check_message(check, asked))
        group_send_on_commit(
            staff_group(lecture.pk),
            {"type": "roster.check", "check": _check_summary(check, now), "asked": asked},
        )
    return check


@dataclass(frozen=True)
class AnswerResult:
    status: str  # answered | already | missed | not_asked
    check: int | None


def do_answer_presence_check(
    check_id: object, person: Person | int, now: dt.datetime | None = None
) -> AnswerResult:
    """Record ``person``'s answer to a check (an instance or an id). The person comes from
    the socket's signed-in user, never from the message, so nobody can answer for someone
    else.

    ``answered``: stored now; ``already``: answered before (nothing changes); ``missed``: too
    late (stored as missed if it was not yet); ``not_asked``: no such check for this person
    (unknown id, another lecture's, or they were not in the room when it was sent)."""
    now = now or timezone.now()
    if type(check_id) is not int or check_id <= 0:
        return AnswerResult("not_asked", None)
    with transaction.atomic():
        response = (
            PresenceCheckResponse.objects.select_for_update()
            .select_related("presence_check")
            .filter(presence_check_id=check_id, person=person)
            .first()
        )
        if response is None:
            return AnswerResult("not_asked", None)
        check = response.presence_check
        if response.status == CheckResponseStatus.ANSWERED:
            return AnswerResult("already", check.pk)
        if response.status == CheckResponseStatus.MISSED or now > check.expires_at:
            if response.status != CheckResponseStatus.MISSED:
                response.status = CheckResponseStatus.MISSED
                response.save(update_fields=["status"])
            return AnswerResult("missed", check.pk)
        response.status = CheckResponseStatus.ANSWERED
        response.answered_at = now
        response.save(update_fields=["status", "answered_at"])
        group_send_on_commit(
            staff_group(check.lecture_id),
            {"type": "roster.answer", "check": check.pk, "person": response.person_id},
        )
    return AnswerResult("answered", check.pk)


def do_close_expired_checks(lecture: Lecture | None = None, now: dt.datetime | None = None) -> int:
    """Close every check whose window has passed (of one lecture, or all): responses still
    ``asked`` become ``missed``. Idempotent and safe to run from anywhere; returns how many
    checks were closed."""
    now = now or timezone.now()
    due = PresenceCheck.objects.filter(closed_at__isnull=True, expires_at__lt=now)
    if lecture is not None:
        due = due.filter(lecture=lecture)
    with transaction.atomic():
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        PresenceCheckResponse.objects.filter(
            presence_check_id__in=ids, status=CheckResponseStatus.ASKED
        ).update(status=CheckResponseStatus.MISSED)
        PresenceCheck.objects.filter(pk__in=ids, closed_at__isnull=True).update(closed_at=now)
    return len(ids)


def checks_by_person(lecture: Lecture) -> dict[int, list[tuple[dt.datetime, dt.datetime | None]]]:
    """``{person id: [(sent_at, answered_at or None), ...]}`` for every check the person was
    asked, sorted by sending time (one query). Call after ``do_close_expired_checks``."""
    found: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    rows = (
        PresenceCheckResponse.objects.filter(presence_check__lecture=lecture)
        .order_by("presence_check__sent_at", "presence_check_id")
        .values_list("person_id", "presence_check__sent_at", "status", "answered_at")
    )
    for person_id, sent_at, status, answered_at in rows:
        answered = answered_at if status == CheckResponseStatus.ANSWERED else None
        found.setdefault(person_id, []).append((sent_at, answered))
    return found
