"""Attendance at the corrections centre: the rotating check-in code and staff marks.

For a lecture held at the centre (mode "at the centre" or "both"):

- the lecture's **check-in screen** in the admin shows a QR code of a link to this site; its
  token (``qr_token``) is an HMAC of the lecture (id and secret room name) and the current
  30-second step, so it changes every 30 s and fits only that lecture. A scan is accepted
  with the current or the previous step's token (30-60 s to scan), from 30 minutes before
  the start to the end, for a signed-in member of the lecture's audience
  (``do_scan_check_in``); scanning again changes nothing;
- staff mark persons from the **audience list** (``do_staff_mark``): check in, check out, or
  undo either with a reason. The lecturer marks the whole audience; an officer or an
  administrator the persons they see (``Person.objects.visible_to``).

Every change is written to the access log. A change after the lecture's end marks its
attendance stale, so the next recompute counts it: ``live.services.do_recompute_attendance``
counts a check-in as presence from ``checked_in_at`` (clipped to the lecture) until
``checked_out_at`` or the end (``presence_by_person`` and ``with_centre``), united with the
person's online intervals.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record_access
from live.attendance import Summary, summary_of, union_intervals
from live.audience import audience_persons, do_resolve_audience, in_audience
from live.models import CentreCheckIn, CheckInMethod, Lecture, LectureMode
from live.overrides import may_override_attendance
from people.models import Person
from people.roles import Role, roles_of

STEP_SECONDS = 30
OPENS_BEFORE = dt.timedelta(minutes=30)
CENTRE_MODES = frozenset({LectureMode.CENTRE, LectureMode.BOTH})
TOKEN = re.compile(r"([0-9a-f]{1,12})\.([A-Za-z0-9_-]{16})")
_SALT = "live.centre.check-in"


class CheckInRefused(Exception):
    """A scan that records nothing; ``reason`` is one of ``REFUSALS`` and ``message`` says
    what to do, in the person's words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return refusal_message(self.reason)


REFUSALS = ("invalid", "expired", "too_early", "over", "not_audience")


def refusal_message(reason: str) -> str:
    messages = {
        "invalid": _(
            "This code does not work. Please scan the code on the screen at the centre again."
        ),
        "expired": _(
            "This code has just changed. Please scan the code on the screen again; it changes "
            "every 30 seconds."
        ),
        "too_early": _(
            "Check-in opens 30 minutes before the lecture starts. Please scan the code again "
            "a little later."
        ),
        "over": _("This lecture has ended, so check-in is closed. Please talk to the staff."),
        "not_audience": _(
            "You are not on the list for this lecture, so nothing was recorded. If you think "
            "this is a mistake, please talk to the staff."
        ),
    }
    return messages.get(reason, messages["invalid"])


# --- The rotating code ------------------------------------------------------------------------


def at_centre(lecture: Lecture) -> bool:
    return lecture.mode in CENTRE_MODES


def check_in_window(lecture: Lecture) -> tuple[dt.datetime, dt.datetime]:
    """Scans count from 30 minutes before the start until the end."""
    return lecture.start - OPENS_BEFORE, lecture.end


def step_of(now: dt.datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def seconds_to_next_step(now: dt.datetime) -> int:
    return STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS


def _mac(lecture: Lecture, step: int) -> str:
    digest = salted_hmac(_SALT, f"{lecture.pk}:{lecture.room_name}:{step}").digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def qr_token(lecture: Lecture, now: dt.datetime | None = None) -> str:
    """The lecture's token for the 30-second step ``now`` falls in."""
    step = step_of(now or timezone.now())
    return f"{step:x}.{_mac(lecture, step)}"


def check_token(lecture: Lecture, token: str, now: dt.datetime) -> None:
    """Raise ``CheckInRefused`` unless ``token`` is ``lecture``'s for the current or the
    previous step. A token of another lecture or a forged one is "invalid"; a genuine one
    older than that is "expired"."""
    match = TOKEN.fullmatch(token or "")
    if match is None:
        raise CheckInRefused("invalid")
    step = int(match.group(1), 16)
    if not hmac.compare_digest(match.group(2), _mac(lecture, step)):
        raise CheckInRefused("invalid")
    current = step_of(now)
    if step > current:
        raise CheckInRefused("invalid")  # not issued yet: never from our screen
    if step < current - 1:
        raise CheckInRefused("expired")


def qr_svg(url: str) -> str:
    """An inline SVG QR code of ``url`` (sized by CSS, no width or height of its own)."""
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg)
    # An image needs a name for screen readers (axe: svg-img-alt).
    label = escape(_("Check-in code to scan with a phone"))
    return svg.replace("<svg ", f'<svg role="img" class="qr" aria-label="{label}" ', 1)


# --- The learner's scan -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    lecture: Lecture
    check_in: CentreCheckIn
    created: bool


def _in_audience(lecture: Lecture, person: Person, now: dt.datetime) -> bool:
    if lecture.audience_resolved_at is None and lecture.has_started(now):
        do_resolve_audience(lecture, now)
    return in_audience(lecture, person)


def check_scan(user, pk: int, token: str, now: dt.datetime) -> tuple[Lecture, Person]:
    """The lecture and the scanning person, or ``CheckInRefused``. The token is checked
    before anything about the person, so a guessed lecture id learns nothing."""
    lecture = Lecture.objects.filter(pk=pk, mode__in=CENTRE_MODES).first()
    if lecture is None:
        raise CheckInRefused("invalid")
    check_token(lecture, token, now)
    opens, closes = check_in_window(lecture)
    if now < opens:
        raise CheckInRefused("too_early")
    if now > closes:
        raise CheckInRefused("over")
    person = Person.objects.filter(user=user).select_related("office").first()
    if person is None or not _in_audience(lecture, person, now):
        raise CheckInRefused("not_audience")
    return lecture, person


def do_scan_check_in(
    user, pk: int, token: str, *, now: dt.datetime | None = None, request=None
) -> ScanResult:
    """Record that ``user`` scanned lecture ``pk``'s code at ``now``. Raises
    ``CheckInRefused`` (nothing stored) for a bad, old or foreign token, outside the window,
    or for anyone not in the audience. A second scan (or a staff mark before it) returns
    the existing check-in unchanged."""
    now = now or timezone.now()
    lecture, person = check_scan(user, pk, token, now)
    existing = CentreCheckIn.objects.filter(lecture=lecture, person=person).first()
    if existing is not None:
        return ScanResult(lecture, existing, created=False)
    try:
        with transaction.atomic():
            check_in = CentreCheckIn.objects.create(
                lecture=lecture,
                person=person,
                method=CheckInMethod.QR,
                checked_in_at=max(now, lecture.start - OPENS_BEFORE),
                recorded_by=user,
                recorded_at=now,
            )
            _mark_stale(lecture)
            record_access(
                request,
                user=user,
                action=Action.CHANGE,
                obj=check_in,
                person_id=person.pk,
                detail=f"centre check-in by scan, lecture {lecture.pk}",
            )
    except IntegrityError:  # a double tap: the other request stored it
        check_in = CentreCheckIn.objects.get(lecture=lecture, person=person)
        return ScanResult(lecture, check_in, created=False)
    return ScanResult(lecture, check_in, created=True)


def _mark_stale(lecture: Lecture) -> None:
    """A check-in changed after attendance was computed: the next recompute counts it."""
    Lecture.objects.filter(pk=lecture.pk, attendance_computed_at__isnull=False).update(
        attendance_stale=True
    )


# --- Staff: the audience list and marks -------------------------------------------------------

MARK_ACTIONS = ("check_in", "check_out", "undo_check_in", "undo_check_out")
MARKING_ROLES = frozenset({Role.OFFICER, Role.ADMINISTRATOR})


def access_centre_lecture(user, pk: int) -> Lecture:
    """A lecture at the centre that ``user`` may see and holds ``live.view_attendance``
    for; 404 otherwise (the caller checks the permission first)."""
    lecture = (
        Lecture.objects.visible_to(user)
        .filter(pk=pk, mode__in=CENTRE_MODES)
        .select_related("lecturer")
        .first()
    )
    if lecture is None:
        raise Http404
    return lecture


def roster_persons(user, lecture: Lecture):
    """The audience persons ``user`` may mark or see: the lecturer (and a superuser) the
    whole audience, officers and administrators the persons they see. The fixed list once
    the lecture has started, before that the audience rule's persons."""
    persons = audience_persons(lecture)
    if user.is_superuser or lecture.lecturer_id == user.pk:
        return persons
    if roles_of(user) & MARKING_ROLES:
        return persons.filter(pk__in=Person.objects.visible_to(user).values("pk"))
    return persons.none()


@dataclass
class RosterRow:
    person: Person
    check_in: CentreCheckIn | None


def roster(user, lecture: Lecture) -> list[RosterRow]:
    """The audience list with each person's check-in; two queries whatever its size."""
    persons = list(
        roster_persons(user, lecture)
        .select_related("office")
        .order_by("office__path", "full_name", "pk")
    )
    check_ins = {
        c.person_id: c
        for c in CentreCheckIn.objects.filter(
            lecture=lecture, person_id__in=[p.pk for p in persons]
        ).select_related("recorded_by")
    }
    return [RosterRow(person, check_ins.get(person.pk)) for person in persons]


def may_mark(user, lecture: Lecture, person_id: int, now: dt.datetime | None = None) -> bool:
    """Staff at the door mark the people they see while check-in is open; once it has closed
    a mark changes a finished lecture's attendance, which is the officers' (as overrides are,
    ``may_override_attendance``), never the lecturer's."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_perm("live.view_attendance") or not at_centre(lecture):
        return False
    closed = (now or timezone.now()) > check_in_window(lecture)[1]
    if closed and not may_override_attendance(user):
        return False
    return roster_persons(user, lecture).filter(pk=person_id).exists()


def check_mark(
    lecture: Lecture, action: str, at: dt.datetime | None, reason: str, now: dt.datetime
) -> tuple[dt.datetime, str]:
    """A valid (time, reason) for a staff mark, or ValidationError saying what is wrong.

    The time defaults to now (at most the lecture's end) and must lie between the opening of
    check-in and now; an undo needs a reason."""
    if action not in MARK_ACTIONS:
        raise ValidationError(_("Choose what to record."))
    opens, closes = check_in_window(lecture)
    if at is None:
        at = min(now, closes)
    if at < opens or at > closes:
        raise ValidationError(
            _("The time must lie between %(opens)s and %(closes)s.")
            % {
                "opens": timezone.localtime(opens).strftime("%H:%M"),
                "closes": timezone.localtime(closes).strftime("%H:%M"),
            }
        )
    if at > now:
        raise ValidationError(_("The time cannot be in the future."))
    reason = (reason or "").strip()
    if "\x00" in reason or len(reason) > 200:
        raise ValidationError(_("Please keep the reason short (200 characters at most)."))
    if action.startswith("undo") and not reason:
        raise ValidationError(_("Please give a reason for undoing it."))
    return at, reason


def do_staff_mark(
    lecture: Lecture,
    person_id: int,
    *,
    action: str,
    by,
    at: dt.datetime | None = None,
    reason: str = "",
    request=None,
    now: dt.datetime | None = None,
) -> CentreCheckIn | None:
    """Check a person in or out at the centre, or undo either (with a reason). Returns the
    check-in (None once undone). Raises PermissionDenied unless ``may_mark`` and
    ValidationError for a bad time, a missing reason or an action that does not fit (out
    before in, in twice). Logged in the access log with the times and the reason."""
    now = now or timezone.now()
    if not may_mark(by, lecture, person_id, now):
        raise PermissionDenied
    at, reason = check_mark(lecture, action, at, reason, now)
    with transaction.atomic():
        Lecture.objects.select_for_update().filter(pk=lecture.pk).first()
        row = CentreCheckIn.objects.select_for_update().filter(lecture=lecture, person_id=person_id)
        row = row.first()
        detail = _apply_mark(lecture, person_id, row, action, at, reason, by, now)
        _mark_stale(lecture)
        record_access(
            request,
            user=by,
            action=Action.CHANGE,
            object_type="live.centrecheckin",
            object_id=f"{lecture.pk}/{person_id}",
            person_id=person_id,
            detail=detail,
        )
    return CentreCheckIn.objects.filter(lecture=lecture, person_id=person_id).first()


def _hm(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%H:%M:%S") if value else "-"


def _apply_mark(lecture, person_id, row, action, at, reason, by, now) -> str:
    where = f"lecture {lecture.pk}"
    if action == "check_in":
        if row is not None:
            raise ValidationError(_("This person is already checked in."))
        CentreCheckIn.objects.create(
            lecture=lecture,
            person_id=person_id,
            method=CheckInMethod.STAFF,
            checked_in_at=at,
            recorded_by=by,
            recorded_at=now,
            note=reason,
        )
        return f"centre check-in at {_hm(at)}, {where}: {reason}".rstrip(": ")
    if row is None:
        raise ValidationError(_("This person is not checked in."))
    if action == "check_out":
        if row.checked_out_at is not None:
            raise ValidationError(_("This person is already checked out."))
        if at < row.checked_in_at:
            raise ValidationError(_("The time of leaving cannot be before the arrival."))
        row.checked_out_at = at
        row.save(update_fields=["checked_out_at"])
        return f"centre check-out at {_hm(at)}, {where}: {reason}".rstrip(": ")
    if action == "undo_check_out":
        if row.checked_out_at is None:
            raise ValidationError(_("This person is not checked out."))
        before = row.checked_out_at
        row.checked_out_at = None
        row.save(update_fields=["checked_out_at"])
        return f"centre check-out at {_hm(before)} undone, {where}: {reason}"
    # undo_check_in: the row goes; the access log keeps what it said
    row.delete()
    return (
        f"centre check-in ({row.method}) {_hm(row.checked_in_at)}–{_hm(row.checked_out_at)} "
        f"undone, {where}: {reason}"
    )


# --- Attendance (called by live.services.do_recompute_attendance) ------------------------------


def presence_by_person(lecture: Lecture) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """``{person id: (arrived, left or the lecture's end)}`` of the lecture's check-ins; one
    query."""
    return {
        person_id: (since, until or lecture.end)
        for person_id, since, until in CentreCheckIn.objects.filter(lecture=lecture).values_list(
            "person_id", "checked_in_at", "checked_out_at"
        )
    }


def with_centre(
    summary: Summary | None,
    visit: tuple[dt.datetime, dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[Summary, dict]:
    """``summary`` (online presence, or None) united with a check-in's interval, and the
    figures that say where the time came from (``online_seconds``, ``centre_seconds``)."""
    online = list(summary["intervals"]) if summary else []
    centre = union_intervals([visit], start, end)
    united = summary_of(union_intervals([*online, *centre], start, end))
    return united, {
        "online_seconds": int(summary["seconds"]) if summary else 0,
        "centre_seconds": summary_of(centre)["seconds"],
    }
