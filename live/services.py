"""Lectures: event intake, attendance, overrides, the lecture page, reminders.

Naming follows the house contract: ``access_*`` fetches and checks permission, ``check_*``
validates, ``do_*`` writes. ``do_store_presence_event`` is the one way a webhook event enters
the database; views and the ``replay_events`` command call it after ``live.webhooks`` has
verified and parsed the request and ``check_presence_event`` has matched it to a lecture.

Attendance is computed only once a lecture has ended (``do_recompute_attendance``): events
mark the lecture stale, the room's destruction (or ``recompute_attendance`` from cron, or
the lecturer's attendance page) computes it, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, JSONField, Q, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import Action
from audit.services import record_access
from lib import bulk
from live import centre, jitsi, ledger, makeups, rooms, roster
from live.attendance import (
    STORED_VERSION,
    PolicyRules,
    decide,
    merge_read,
    read_stored,
    shorten_by_checks,
)
from live.audience import audience_participant_ids, audience_persons, do_resolve_audience
from live.models import (
    ATTENDED,
    JOIN_OPENS_BEFORE,
    Attendance,
    AttendancePolicy,
    AttendanceStatus,
    EventType,
    Lecture,
    LectureAudience,
    Makeup,
    PresenceEvent,
)
from live.overrides import may_override_attendance
from live.webhooks import ParsedEvent, UnknownParticipant, UnknownRoom
from notifications.models import NotificationKind
from notifications.services import notify
from participation.models import AbsenceRequest, AbsenceStatus
from people.models import Person
from people.names import mask_name_for_peers

log = logging.getLogger(__name__)

PARTICIPANT_EVENTS = frozenset(
    {
        EventType.PARTICIPANT_JOINED,
        EventType.PARTICIPANT_LEFT,
        EventType.OCCUPANT_JOINED,
        EventType.OCCUPANT_LEFT,
    }
)
ROOM_CLOSED_EVENTS = frozenset({EventType.ROOM_DESTROYED, EventType.MUC_ROOM_DESTROYED})
# Reminders go out this long before the start (``send_lecture_reminders``).
REMIND_BEFORE = dt.timedelta(hours=1)
# Join tokens stay valid this long after the end, for a lecture that runs over.
TOKEN_GRACE = dt.timedelta(minutes=30)


class LectureNotOver(Exception):
    """Attendance is computed only once the lecture has ended."""


class NoAttendancePolicy(Exception):
    """No attendance policy version exists (the first one comes with a migration)."""


# --- Event intake -------------------------------------------------------------------------


def check_presence_event(parsed: ParsedEvent, now: dt.datetime | None = None) -> Lecture | None:
    """The lecture an authentic event belongs to, or None for a room a registered owner
    (``live.rooms``) accepted the event for. Raises ``UnknownRoom`` for a room that is
    nobody's and ``UnknownParticipant`` for a participant event whose user id is neither
    the lecturer's nor an audience member's (resolving the audience first if the lecture
    has started); an owner raises the same for its own rooms."""
    lecture = Lecture.objects.filter(room_name=parsed["room_name"]).first()
    if lecture is None:
        owner = rooms.owner_of(parsed["room_name"])
        if owner is None:
            raise UnknownRoom("unknown room")
        owner.check(parsed, now or timezone.now())
        return None
    if parsed["event_type"] not in PARTICIPANT_EVENTS:
        return lecture
    user_id = parsed["user_id"]
    if not user_id:
        raise UnknownParticipant("participant event without a user id")
    if user_id == jitsi.participant_id(lecture.lecturer_id):
        return lecture
    now = now or timezone.now()
    if lecture.audience_resolved_at is None and lecture.has_started(now):
        do_resolve_audience(lecture, now)
    if lecture.audience_resolved_at is not None:
        known = LectureAudience.objects.filter(lecture=lecture, participant_id=user_id).exists()
    else:
        known = user_id in audience_participant_ids(lecture)
    if not known:
        raise UnknownParticipant("unknown user id")
    return lecture


@dataclass(frozen=True)
class StoreResult:
    event: PresenceEvent | None
    created: bool

    @property
    def status(self) -> str:
        return "stored" if self.created else "duplicate"


def do_store_presence_event(parsed: ParsedEvent) -> StoreResult:
    """Append ``parsed`` unless an event with the same dedupe key exists (a replay or a
    provider retry): then nothing is written and ``created`` is False. A new event is
    handed to ``on_presence_event`` after the transaction commits. The caller has matched
    it to a lecture (``check_presence_event``)."""
    try:
        with transaction.atomic():
            event = PresenceEvent.objects.create(
                provider=parsed["provider"],
                event_type=parsed["event_type"],
                room_name=parsed["room_name"],
                user_id=parsed["user_id"],
                occurred_at=parsed["occurred_at"],
                payload=parsed["payload"],
                dedupe_key=parsed["dedupe_key"],
            )
            transaction.on_commit(lambda: on_presence_event(event))
    except IntegrityError:
        if not PresenceEvent.objects.filter(dedupe_key=parsed["dedupe_key"]).exists():
            raise
        return StoreResult(event=None, created=False)
    return StoreResult(event=event, created=True)


def on_presence_event(event: PresenceEvent) -> None:
    """Called once per newly stored event, after commit: the lecture's attendance is stale.

    When the room closes after the lecture's end, attendance is recomputed at once; other
    events after the end (a late leave, a recording) wait for ``recompute_attendance``, so
    a burst of leave events costs one recompute, not one each. An event of a room another app
    owns (``live.rooms``) goes to that owner instead."""
    owner = rooms.owner_of(event.room_name)
    if owner is not None:
        owner.on_stored(event)
        return
    lectures = Lecture.objects.filter(room_name=event.room_name)
    lectures.filter(attendance_stale=False).update(attendance_stale=True)
    if event.event_type in PARTICIPANT_EVENTS:
        roster.notify_roster_changed(event.room_name)
    if event.event_type in ROOM_CLOSED_EVENTS:
        lecture = lectures.first()
        if lecture is not None and lecture.has_ended():
            try:
                do_recompute_attendance(lecture)
            except Exception:  # the event is stored; the cron recompute will try again
                log.exception("attendance recompute of lecture %s failed", lecture.pk)


# --- Attendance ---------------------------------------------------------------------------


def current_policy() -> AttendancePolicy:
    policy = AttendancePolicy.objects.current()
    if policy is None:
        policy = AttendancePolicy.objects.order_by("-version").first()
    if policy is None:
        raise NoAttendancePolicy("no attendance policy version exists")
    return policy


def check_policy_rules(rules: object) -> PolicyRules:
    """The validated rules, or ValidationError naming what is wrong."""
    try:
        return PolicyRules.from_dict(rules)
    except (TypeError, ValueError) as error:
        raise ValidationError(str(error)) from error


def do_create_policy_version(rules: dict, *, note: str = "", by=None) -> AttendancePolicy:
    """Store ``rules`` as the next policy version and make it the active one. Versions are
    never edited, so every stored attendance keeps the rules that decided it. Raises
    ValidationError for malformed rules."""
    rules = check_policy_rules(rules).to_dict()
    with transaction.atomic():
        latest = AttendancePolicy.objects.select_for_update().order_by("-version").first()
        AttendancePolicy.objects.filter(active=True).update(active=False)
        return AttendancePolicy.objects.create(
            version=(latest.version + 1) if latest else 1,
            rules=rules,
            active=True,
            note=(note or "").strip()[:200],
            created_by=by,
        )


def read_room_events(room_name: str) -> list[tuple[str, tuple]]:
    """Every stored event of the room as ``live.attendance.read_body`` reads its body, for
    ``merge_read`` (the same result as ``merge_presence`` of the raw bodies). One query: the
    few ``merge_*`` columns of each row, and the raw body only of a row they do not describe."""
    body = Case(
        When(merge_version=STORED_VERSION, then=Value(None)),
        default="payload",
        output_field=JSONField(),
    )
    rows = (
        PresenceEvent.objects.filter(room_name=room_name)
        .order_by()
        .values_list(
            "merge_version",
            "merge_kind",
            "merge_at",
            "merge_joined_at",
            "user_id",
            "merge_scope",
            "merge_connection",
            "merge_key",
            body,
        )
    )
    return [read_stored(*row) for row in rows]


def do_recompute_attendance(lecture: Lecture, now: dt.datetime | None = None) -> list[Attendance]:
    """Compute every audience member's attendance from the room's stored events.

    One transaction: the audience is fixed if it was not yet, the events are read in one
    query (``read_room_events``) and merged (``merge_read``, the same result as
    ``merge_presence`` of the raw bodies), the active policy decides each person, and the
    ``Attendance`` rows, the participation ledger and the makeups are brought up to date with
    set-based writes of what changed. Staff overrides are kept. Safe to re-run (same events,
    same result) and all-or-nothing if interrupted. Raises ``LectureNotOver`` before the
    lecture's end."""
    now = now or timezone.now()
    if not lecture.has_ended(now):
        raise LectureNotOver(lecture.pk)
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().select_related("lecturer").get(pk=lecture.pk)
        if lecture.audience_resolved_at is None:
            do_resolve_audience(lecture, now)
        policy = current_policy()
        rules = PolicyRules.from_dict(policy.rules)
        summaries = merge_read(read_room_events(lecture.room_name), lecture.start, lecture.end)
        # presence checks: late answers are closed as missed first (live.roster)
        roster.do_close_expired_checks(lecture, now)
        checks = roster.checks_by_person(lecture)
        # check-ins at the centre count as presence too, united with the online intervals
        visits = centre.presence_by_person(lecture)
        # an absence approved beforehand (participation.absences) excuses whoever did not attend
        excused = set(
            AbsenceRequest.objects.filter(
                requirement_key=ledger.lecture_key(lecture), status=AbsenceStatus.APPROVED
            ).values_list("person_id", flat=True)
        )
        audience = LectureAudience.objects.filter(lecture=lecture).values_list(
            "person_id", "participant_id"
        )
        existing = {row.person_id: row for row in Attendance.objects.filter(lecture=lecture)}
        created: list[Attendance] = []
        changed: list[Attendance] = []
        for person_id, participant_id in audience:
            summary = summaries.get(participant_id)
            asked = checks.get(person_id, [])
            if asked and rules.min_checks_ratio > 0:
                summary = shorten_by_checks(summary, asked, lecture.end)
            where: dict = {}
            if person_id in visits:
                summary, where = centre.with_centre(
                    summary, visits[person_id], lecture.start, lecture.end
                )
            decision = decide(
                summary,
                start=lecture.start,
                end=lecture.end,
                rules=rules,
                checks_asked=len(asked),
                checks_answered=sum(answered is not None for _, answered in asked),
            )
            seconds = int(summary["seconds"]) if summary else 0
            figures = {**decision.figures, **where}
            status = decision.status
            if person_id in excused and status not in ATTENDED:
                status, figures["excused_by_request"] = AttendanceStatus.EXCUSED, True
            row = existing.get(person_id)
            if row is None:
                row = Attendance(
                    lecture_id=lecture.pk,
                    person_id=person_id,
                    status=status,
                    seconds=seconds,
                    figures=figures,
                    policy_id=policy.pk,
                    computed_at=now,
                )
                created.append(row)
                existing[person_id] = row
            elif (row.status, row.seconds, row.figures, row.policy_id) != (
                status,
                seconds,
                figures,
                policy.pk,
            ):
                row.status, row.seconds, row.figures = status, seconds, figures
                row.policy_id = policy.pk
                changed.append(row)
        if len(existing) > len(created):
            Attendance.objects.filter(lecture=lecture).update(computed_at=now)
        # set-based (lib.bulk): only what changed, so a re-run with the same events writes
        # no row but the computation time
        bulk.insert_rows(
            Attendance,
            ["lecture", "person", "status", "seconds", "figures", "policy", "computed_at"],
            (
                (lecture.pk, r.person_id, r.status, r.seconds, r.figures, policy.pk, now)
                for r in created
            ),
        )
        bulk.update_rows(
            Attendance,
            ["status", "seconds", "figures", "policy"],
            ((r.pk, r.status, r.seconds, r.figures, r.policy_id) for r in changed),
        )
        if created:  # the rows handed back carry their primary keys, as bulk_create's did
            ids = dict(Attendance.objects.filter(lecture=lecture).values_list("person_id", "pk"))
            for row in created:
                row.pk = ids[row.person_id]
        for row in existing.values():
            row.computed_at = now
        rows = list(existing.values())
        ledger.sync_lecture_entries(lecture, rows)
        makeups.sync_for_attendance(lecture, rows, now)
        Lecture.objects.filter(pk=lecture.pk).update(
            attendance_computed_at=now, attendance_stale=False
        )
    return rows


def do_recompute_due(now: dt.datetime | None = None) -> int:
    """Recompute every ended lecture whose events changed, or that was never computed."""
    now = now or timezone.now()
    due = list(
        Lecture.objects.ended(now).filter(
            Q(attendance_stale=True) | Q(attendance_computed_at__isnull=True)
        )
    )
    for lecture in due:
        do_recompute_attendance(lecture, now)
    return len(due)


# --- Overrides ----------------------------------------------------------------------------


def may_override(user, attendance: Attendance) -> bool:
    """``may_override_attendance``, for a person the user sees."""
    if not may_override_attendance(user):
        return False
    return Person.objects.visible_to(user).filter(pk=attendance.person_id).exists()


def check_override(status: str, reason: str) -> tuple[str, str]:
    """A valid (status, reason): an attendance status, or "" to go back to the computed one,
    and a reason that is not blank."""
    if status not in ("", *AttendanceStatus.values):
        raise ValidationError(_("Choose a valid attendance status."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give a reason for the change."))
    if len(reason) > 1000:
        raise ValidationError(_("Please keep the reason under 1000 characters."))
    if "\x00" in reason:
        raise ValidationError(_("The reason contains characters that cannot be stored."))
    return status, reason


def do_override_attendance(
    attendance: Attendance,
    *,
    status: str,
    reason: str,
    by,
    request=None,
    now: dt.datetime | None = None,
) -> Attendance:
    """Set (or, with ``status=""``, clear) a staff decision on one attendance row, with its
    reason; the ledger and the makeups follow the new effective status. Raises
    ValidationError for a bad status or a missing reason and PermissionDenied unless
    ``may_override``. The change is written to the access log."""
    status, reason = check_override(status, reason)
    if not may_override(by, attendance):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        lecture = Lecture.objects.select_for_update().get(pk=attendance.lecture_id)
        row = Attendance.objects.select_for_update().get(pk=attendance.pk)
        before = row.effective_status
        row.override_status = status
        row.override_reason = reason
        row.override_by = by
        row.override_at = now
        row.save(update_fields=["override_status", "override_reason", "override_by", "override_at"])
        ledger.sync_lecture_entries(lecture, [row])
        makeups.sync_for_attendance(lecture, [row], now)
        record_access(
            request,
            user=by,
            action=Action.CHANGE,
            obj=row,
            person_id=row.person_id,
            detail=f"attendance {before} → {row.effective_status}: {reason}",
        )
    return row


# --- The learner's and the lecturer's lecture page ----------------------------------------


@dataclass(frozen=True)
class LectureAccess:
    lecture: Lecture
    person: Person | None  # the audience member, or None for the lecturer
    moderator: bool


def access_lecture_page(user, pk: int) -> LectureAccess:
    """The lecture for its lecturer or an audience member; Http404 for anyone else (a
    lecture's existence is not revealed)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    lecture = Lecture.objects.select_related("lecturer").filter(pk=pk).first()
    if lecture is None:
        raise Http404
    if lecture.lecturer_id == user.pk:
        return LectureAccess(lecture=lecture, person=None, moderator=True)
    person = Person.objects.filter(user=user).select_related("office").first()
    if person is None or not Lecture.objects.for_person(person).filter(pk=pk).exists():
        raise Http404
    return LectureAccess(lecture=lecture, person=person, moderator=False)


def lecture_embed(access: LectureAccess, user, now: dt.datetime | None = None) -> dict:
    """What the page's IFrame API call needs (``live.jitsi.embed_settings``): a moderator
    token for the lecturer, an attendee token otherwise, valid until shortly after the end.
    Raises ``JitsiNotConfigured`` when the video server is not set up."""
    lecture = access.lecture
    display_name = (
        lecture.speaker if access.moderator else mask_name_for_peers(user.get_full_name())
    )
    return jitsi.embed_settings(
        room=lecture.room_name,
        user_pk=user.pk,
        display_name=display_name,
        moderator=access.moderator,
        now=now,
        valid_until=lecture.end + TOKEN_GRACE,
    )


def join_window(lecture: Lecture) -> tuple[dt.datetime, dt.datetime]:
    return lecture.start - JOIN_OPENS_BEFORE, lecture.end


def upcoming_for_person(person: Person, limit: int = 3, now: dt.datetime | None = None):
    """The person's next lectures (not yet ended), soonest first; one query."""
    return list(
        Lecture.objects.for_person(person)
        .upcoming(now)
        .select_related("lecturer")
        .only(
            "pk",
            "title",
            "topic",
            "start",
            "end",
            "mode",
            "location",
            "lecturer_title",
            "lecturer_name",
            "lecturer__name",
            "lecturer__username",
        )[:limit]
    )


# --- Reminders ----------------------------------------------------------------------------


def reminder_key(lecture: Lecture, person_id: int) -> str:
    return f"lecture-reminder:{lecture.pk}:{person_id}"


def do_send_reminders(now: dt.datetime | None = None, before: dt.timedelta = REMIND_BEFORE) -> int:
    """Notify every audience member of each lecture starting within ``before``; each person
    hears once per lecture (``notify``'s dedupe key), so running it again sends nothing new.
    Returns how many reminders were sent."""
    now = now or timezone.now()
    sent = 0
    lectures = Lecture.objects.filter(start__gt=now, start__lte=now + before).select_related(
        "lecturer"
    )
    for lecture in lectures:
        persons = audience_persons(lecture)
        when = timezone.localtime(lecture.start)
        url = reverse("live_lecture", args=[lecture.pk])
        for person in persons.select_related("user"):
            with transaction.atomic():
                notification = notify(
                    person.user,
                    kind=NotificationKind.LECTURE,
                    title=gettext_noop("Lecture soon: %(title)s"),
                    body=gettext_noop(
                        "Your lecture starts at %(time)s. Please open the lecture page a few "
                        "minutes early; your attendance is recorded by the video server."
                    ),
                    url=url,
                    dedupe_key=reminder_key(lecture, person.pk),
                    params={"title": lecture.title[:150], "time": when.strftime("%H:%M")},
                )
            sent += notification is not None
    return sent


# --- Subject-access export ----------------------------------------------------------------


def collect_live_data(person: Person) -> dict:
    """Lectures attended, attendance decisions and makeups (people.privacy)."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    return {
        "lectures": {
            "attendance": [
                {
                    "lecture": a.lecture.title,
                    "start": when(a.lecture.start),
                    "status": a.effective_status,
                    "computed_status": a.status,
                    "seconds_present": a.seconds,
                    "changed_by_staff_because": a.override_reason,
                }
                for a in Attendance.objects.for_person(person)
                .select_related("lecture")
                .order_by("lecture__start", "pk")
            ],
            "makeups": [
                {
                    "lecture": m.lecture.title,
                    "kind": m.kind,
                    "due_date": m.due_date.isoformat(),
                    "completed_at": when(m.completed_at),
                }
                for m in Makeup.objects.for_person(person)
                .select_related("lecture")
                .order_by("due_date", "pk")
            ],
        }
    }
