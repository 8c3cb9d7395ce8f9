"""Excused absences (issue #7): a person, or their case officer, asks to excuse one
requirement of a month (a lecture, a course due date or the month's study quota) with a reason
and an optional evidence file; an officer of the person's office (or an administrator)
approves or rejects it. An approved request writes an ``excused`` entry to the participation
ledger, so the month counts as excused; for a lecture that has taken place it also sets the
attendance to excused (``live.services.do_override_attendance``) and usually gives a makeup
(``live.makeups.do_assign_makeup``).

Naming follows the services elsewhere: ``access_*`` fetches and checks permission,
``check_*`` validates, ``do_*`` writes (every write is logged in the access log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import Action
from audit.services import record_access
from notifications.models import NotificationKind
from notifications.services import do_mark_read_by_key, notify
from participation.models import (
    AbsenceRequest,
    AbsenceStatus,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
)
from participation.requirements import (
    LECTURE,
    QUOTA,
    Requirement,
    entries_for,
    month_start,
    month_status,
    requirements_for,
    supervised_days,
)
from people.models import Person
from people.roles import Role, roles_of

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_TEXT = 1000
# How many months before the current one a request may still be filed for.
MONTHS_BACK = 1
OPEN_STATUSES = (AbsenceStatus.PENDING, AbsenceStatus.APPROVED)

# Accepted evidence, recognised by its first bytes (never by its name or declared type).
PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}


class AbsenceError(Exception):
    """Bad input or a state that forbids the step; ``str()`` is the message for the user."""


# --- Who may do what --------------------------------------------------------------------------


def may_handle(user) -> bool:
    """Officers and administrators decide (and file for) the persons they see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(roles_of(user) & {Role.OFFICER, Role.ADMINISTRATOR})


def handled_by(user) -> QuerySet[AbsenceRequest]:
    """The requests ``user`` may see and decide: those of the persons they see
    (``Person.objects.visible_to``), for officers and administrators only."""
    if not may_handle(user):
        return AbsenceRequest.objects.none()
    return AbsenceRequest.objects.filter(person__in=Person.objects.visible_to(user))


def may_handle_person(user, person: Person) -> bool:
    return may_handle(user) and Person.objects.visible_to(user).filter(pk=person.pk).exists()


def pending_count(user) -> int:
    return handled_by(user).filter(status=AbsenceStatus.PENDING).count()


def own_requests(user) -> QuerySet[AbsenceRequest]:
    """The signed-in person's own requests; nobody else's."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AbsenceRequest.objects.none()
    return AbsenceRequest.objects.filter(person__user=user)


def access_own_request(user, pk: int) -> AbsenceRequest:
    """The person's own request; Http404 for anyone else's or a missing one."""
    absence = own_requests(user).filter(pk=pk).select_related("person").first()
    if absence is None:
        raise Http404("No such absence request")
    return absence


# --- What can be excused --------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One requirement a request can be filed for."""

    period: dt.date
    requirement: Requirement

    @property
    def value(self) -> str:
        return f"{self.period:%Y-%m}|{self.requirement.key}"

    @property
    def label(self) -> str:
        month = date_format(self.period, "YEAR_MONTH_FORMAT")
        return f"{month} · {requirement_label(self.requirement.kind, self.requirement.title)}"


def requirement_label(kind: str, title: str) -> str:
    if kind == LECTURE:
        return _("Lecture: %(title)s") % {"title": title}
    if kind == "course":
        return _("Course: %(title)s") % {"title": title}
    return title


def is_quota(absence: AbsenceRequest) -> bool:
    """A request for the month's study quota: its stored title is text generated in the
    filer's language ("2026年9月学习 1.5 小时"), so screens and notices name the quota in
    their reader's language instead; a lecture's or course's title is content and shown as
    stored."""
    return absence.requirement_key.partition(":")[0] == QUOTA


def requirement_text(absence: AbsenceRequest) -> str:
    """What the request is for, in the active language."""
    if is_quota(absence):
        return _("Study quota of %(year)d-%(month)02d") % {
            "year": absence.period.year,
            "month": absence.period.month,
        }
    return absence.requirement


def filing_months(today: dt.date) -> list[dt.date]:
    """The months a request may be filed for: this month and ``MONTHS_BACK`` before it."""
    months = [month_start(today)]
    for _index in range(MONTHS_BACK):
        months.append(month_start(months[-1] - dt.timedelta(days=1)))
    return months


def _month_state(person: Person, period: dt.date, today: dt.date):
    """(every requirement by key, the month's result) for one person and month."""
    reqs = requirements_for([person], period)[person.pk] if supervised_days(person, period) else []
    entries = entries_for([person.pk], period).get(person.pk, ())
    return {r.key: r for r in reqs}, month_status(reqs, entries, period=period, today=today)


def open_options(person: Person, today: dt.date | None = None) -> list[Option]:
    """What the person can still ask to excuse: each requirement of this month and the month
    before that is neither met nor excused and has no pending request."""
    today = today or timezone.localdate()
    months = filing_months(today)
    pending = set(
        AbsenceRequest.objects.filter(
            person=person, period__in=months, status=AbsenceStatus.PENDING
        ).values_list("period", "requirement_key")
    )
    options = []
    for period in months:
        reqs, result = _month_state(person, period, today)
        for missing in result.missing:
            if (period, missing.key) not in pending:
                options.append(Option(period, reqs[missing.key]))
    return options


# --- Checks -----------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The evidence type the first bytes announce (PDF, JPEG, PNG), or None."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check_evidence(upload: UploadedFile) -> str:
    """The content type of an acceptable evidence file: PDF, JPEG or PNG by content, not empty,
    at most 10 MB, an image that opens as one and a PDF that ends like one. Raises
    AbsenceError otherwise. Leaves the file at its start."""
    size = upload.size or 0
    if size == 0:
        raise AbsenceError(_("The file is empty. Please choose the photo or PDF again."))
    if size > MAX_EVIDENCE_BYTES:
        raise AbsenceError(_("The file is larger than 10 MB. Please send a smaller photo or PDF."))
    upload.seek(0)
    content_type = sniff(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise AbsenceError(
            _("Only a PDF, JPEG or PNG file can be used as evidence. Please take a photo of it.")
        )
    if not _well_formed(upload, content_type, size):
        raise AbsenceError(_("The file seems to be damaged. Please choose it again."))
    return content_type


def _well_formed(upload: UploadedFile, content_type: str, size: int) -> bool:
    try:
        if content_type == PDF:
            upload.seek(max(0, size - 1024))
            return b"%%EOF" in upload.read()
        from PIL import Image

        with Image.open(upload) as image:
            expected = "PNG" if content_type == PNG else "JPEG"
            if image.format != expected:
                return False
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - any decoder error means a damaged or disguised file
        return False
    finally:
        upload.seek(0)


def check_text(value: str, *, required: bool, empty_message: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise AbsenceError(empty_message)
    if len(value) > MAX_TEXT:
        raise AbsenceError(_("Please keep it under 1000 characters."))
    if "\x00" in value:
        raise AbsenceError(_("The text contains characters that cannot be stored."))
    return value


def check_period(period: dt.date, today: dt.date) -> dt.date:
    period = month_start(period)
    if period > month_start(today):
        raise AbsenceError(
            _("That month has not started yet. You can ask for leave once it begins.")
        )
    if period not in filing_months(today):
        raise AbsenceError(
            _("That month is too long ago to ask for leave here. Please talk to your case officer.")
        )
    return period


def check_requirement(person: Person, period: dt.date, key: str, today: dt.date) -> Requirement:
    """The requirement ``key`` of the person's month, if it is still open."""
    reqs, result = _month_state(person, period, today)
    requirement = reqs.get(key)
    if requirement is None:
        raise AbsenceError(_("This is not one of the things asked of you in that month."))
    if key not in {m.key for m in result.missing}:
        raise AbsenceError(_("This is already done or excused. No leave is needed."))
    return requirement


def parse_option(value: str) -> tuple[dt.date, str]:
    """``"2026-11|lecture:7"`` → (2026-11-01, "lecture:7"); AbsenceError if malformed."""
    month, _sep, key = (value or "").partition("|")
    try:
        period = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise AbsenceError(_("Please choose what you need leave for.")) from None
    if not key or len(key) > 64:
        raise AbsenceError(_("Please choose what you need leave for."))
    return period, key


# --- Filing -----------------------------------------------------------------------------------


def do_file_absence(
    person: Person,
    *,
    period: dt.date,
    requirement_key: str,
    reason: str,
    evidence: UploadedFile | None = None,
    by,
    request=None,
    today: dt.date | None = None,
) -> AbsenceRequest:
    """File a request for ``person`` (by the person, or by an officer or administrator who sees
    them). Everything is checked before anything is stored; on any error nothing is stored,
    the evidence file included. Raises AbsenceError with the message to show."""
    if not (by.pk == person.user_id or may_handle_person(by, person)):
        raise PermissionDenied
    today = today or timezone.localdate()
    period = check_period(period, today)
    requirement = check_requirement(person, period, requirement_key, today)
    reason = check_text(
        reason, required=True, empty_message=_("Please tell us briefly why you cannot take part.")
    )
    content_type = check_evidence(evidence) if evidence else ""
    if AbsenceRequest.objects.filter(
        person=person, period=period, requirement_key=requirement.key, status__in=OPEN_STATUSES
    ).exists():
        raise AbsenceError(
            _("You have already asked for leave for this. Please wait for the answer.")
        )
    stored = ""
    try:
        with transaction.atomic():
            absence = AbsenceRequest.objects.create(
                person=person,
                period=period,
                requirement_key=requirement.key,
                requirement=requirement.title[:255],
                reason=reason,
                filed_by=by,
                filed_at=timezone.now(),
            )
            if evidence:
                absence.evidence.save(f"evidence.{EXTENSIONS[content_type]}", evidence, save=False)
                stored = absence.evidence.name
                absence.evidence_type = content_type
                absence.save(update_fields=["evidence", "evidence_type"])
            record_access(
                request,
                user=by,
                action=Action.CHANGE,
                obj=absence,
                person_id=person.pk,
                detail=f"absence filed: {requirement.key} {period:%Y-%m}"
                + (f", evidence {content_type}" if stored else ""),
            )
            _tell_on_filing(absence, by)
    except IntegrityError:
        _remove_file(stored)
        raise AbsenceError(
            _("You have already asked for leave for this. Please wait for the answer.")
        ) from None
    except BaseException:
        _remove_file(stored)
        raise
    return absence


def _remove_file(name: str) -> None:
    if name:
        AbsenceRequest._meta.get_field("evidence").storage.delete(name)


def _tell_on_filing(absence: AbsenceRequest, by) -> None:
    person = absence.person
    quota = is_quota(absence)
    values = _notice_values(absence)
    if by.pk == person.user_id:
        officer = person.case_officer
        if officer is not None and officer.is_active:
            notify(
                officer,
                kind=NotificationKind.GENERAL,
                title=gettext_noop("A leave request is waiting for you: %(name)s"),
                body=gettext_noop("Study quota of %(year)d-%(month)02d")
                if quota
                else gettext_noop("“%(requirement)s” (%(year)d-%(month)02d)"),
                url=reverse("learning_absence_detail", args=[absence.pk]),
                dedupe_key=f"absence:{absence.pk}:filed",
                params={"name": person.full_name[:100], **values},
            )
    else:
        notify(
            person.user,
            kind=NotificationKind.GENERAL,
            title=gettext_noop("Your case officer has asked for leave for you"),
            body=gettext_noop(
                "Your study quota of %(year)d-%(month)02d: you will be told of the decision."
            )
            if quota
            else gettext_noop("“%(requirement)s”: you will be told of the decision."),
            url=reverse("learning_absences"),
            dedupe_key=f"absence:{absence.pk}:filed",
            params=values,
        )


def _notice_values(absence: AbsenceRequest) -> dict[str, str | int]:
    """The values every absence notice may name; a quota's stored title is left out (its
    notices name the quota in their own words, see ``is_quota``)."""
    values: dict[str, str | int] = {"year": absence.period.year, "month": absence.period.month}
    if not is_quota(absence):
        values["requirement"] = absence.requirement[:150]
    return values


# --- Deciding ---------------------------------------------------------------------------------


@dataclass
class Decision:
    absence: AbsenceRequest
    attendance_changed: bool = False
    makeup: Any = None  # live.models.Makeup given with the approval, if any
    attendance_note: str = ""  # why the lecture's attendance was left as it was


# kind → excuse(decision, by, *, makeup, request, now): the requirement's own side of an
# approval, for kinds that keep records of their own (``live`` registers lectures: their
# attendance is excused and a makeup assigned). Sets ``decision``'s other fields.
Excuser = Callable[..., None]
EXCUSERS: dict[str, Excuser] = {}


def register_excuse(kind: str, excuser: Excuser) -> None:
    EXCUSERS[kind] = excuser


def access_for_handler(user, pk: int, *, request=None) -> AbsenceRequest:
    """A request for an officer or administrator who sees its person: PermissionDenied for
    other users, Http404 (a logged denial if it exists) out of scope."""
    if not may_handle(user):
        raise PermissionDenied
    absence = handled_by(user).filter(pk=pk).select_related("person__office").first()
    if absence is None:
        person_id = AbsenceRequest.objects.filter(pk=pk).values_list("person_id", flat=True).first()
        if person_id is not None:
            record_access(
                request,
                user=user,
                action=Action.DENIED,
                object_type=AbsenceRequest._meta.label_lower,
                object_id=pk,
                person_id=person_id,
                success=False,
            )
        raise Http404("No such absence request")
    return absence


def do_decide_absence(
    absence: AbsenceRequest,
    *,
    approve: bool,
    note: str,
    by,
    makeup: bool = True,
    request=None,
    now: dt.datetime | None = None,
) -> Decision:
    """Approve or reject a pending request, once. Approving writes the ledger's excused entry
    in the same transaction; for a lecture whose attendance exists it sets that attendance to
    excused and gives a makeup (``makeup=True``) or withdraws an open one. A rejection needs a
    note and leaves the ledger as it was. The person is told either way.

    Raises PermissionDenied unless ``by`` handles the person, AbsenceError if the request was
    already decided or withdrawn, or for a bad note."""
    if not handled_by(by).filter(pk=absence.pk).exists():
        raise PermissionDenied
    note = check_text(
        note,
        required=not approve,
        empty_message=_("Please write a short note for the person saying why."),
    )
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            AbsenceRequest.objects.select_for_update()
            .select_related("person__user")
            .get(pk=absence.pk)
        )
        if row.status == AbsenceStatus.WITHDRAWN:
            raise AbsenceError(
                _("The person has withdrawn this request: there is nothing to decide.")
            )
        if row.status != AbsenceStatus.PENDING:
            raise AbsenceError(
                _("This request has already been decided. It cannot be decided again.")
            )
        row.status = AbsenceStatus.APPROVED if approve else AbsenceStatus.REJECTED
        row.decided_by, row.decided_at, row.decision_note = by, now, note
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        decision = Decision(row)
        if approve:
            ParticipationRecord.objects.update_or_create(
                person_id=row.person_id,
                source=ParticipationSource.EXCUSED,
                requirement_key=row.requirement_key,
                period=row.period,
                defaults={
                    "status": ParticipationStatus.EXCUSED,
                    "minutes": 0,
                    "requirement": row.requirement[:255],
                },
            )
            excuse = EXCUSERS.get(row.requirement_key.partition(":")[0])
            if excuse is not None:
                excuse(decision, by, makeup=makeup, request=request, now=now)
        record_access(
            request,
            user=by,
            action=Action.CHANGE,
            obj=row,
            person_id=row.person_id,
            detail=f"absence {row.status}: {row.requirement_key} {row.period:%Y-%m}"
            + ("; attendance excused" if decision.attendance_changed else "")
            + (f"; makeup {decision.makeup.pk}" if decision.makeup else ""),
        )
        _tell_decision(decision)
        _settle_handlers_notice(row)
    return decision


def _settle_handlers_notice(absence: AbsenceRequest) -> None:
    """The officer's "a leave request is waiting for you" is done once the request is decided
    or withdrawn: mark it read (the person's own notices stay as they are)."""
    do_mark_read_by_key(f"absence:{absence.pk}:filed", except_user_id=absence.person.user_id)


# The decision notice as whole source texts (one per case, so translators see full
# sentences), rendered in the reader's language whenever the inbox is opened.
_DECISION_TITLES = {
    True: gettext_noop("Your leave request was approved"),
    False: gettext_noop("Your leave request was not approved"),
}
# (approved, makeup given, note written) → body
_DECISION_BODIES = {
    (True, False, False): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) now counts as excused."
    ),
    (True, True, False): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) now counts as excused. Please do the makeup "
        "by %(date)s. It helps you keep up with the others."
    ),
    (True, False, True): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) now counts as excused. "
        "Your case officer writes: %(note)s"
    ),
    (True, True, True): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) now counts as excused. Please do the makeup "
        "by %(date)s. It helps you keep up with the others. Your case officer writes: %(note)s"
    ),
    (False, False, False): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) still needs to be done. If anything is "
        "unclear, please talk to your case officer. We will find a way together."
    ),
    (False, False, True): gettext_noop(
        "“%(requirement)s” (%(year)d-%(month)02d) still needs to be done. Your case officer "
        "writes: %(note)s If anything is unclear, please talk to your case officer. We will "
        "find a way together."
    ),
}
# The same for the month's study quota (no makeup: that is a lecture's): (approved, note)
_QUOTA_DECISION_BODIES = {
    (True, False): gettext_noop("Your study quota of %(year)d-%(month)02d now counts as excused."),
    (True, True): gettext_noop(
        "Your study quota of %(year)d-%(month)02d now counts as excused. "
        "Your case officer writes: %(note)s"
    ),
    (False, False): gettext_noop(
        "Your study quota of %(year)d-%(month)02d still needs to be done. If anything is "
        "unclear, please talk to your case officer. We will find a way together."
    ),
    (False, True): gettext_noop(
        "Your study quota of %(year)d-%(month)02d still needs to be done. Your case officer "
        "writes: %(note)s If anything is unclear, please talk to your case officer. We will "
        "find a way together."
    ),
}


def _tell_decision(decision: Decision) -> None:
    absence = decision.absence
    approved = absence.status == AbsenceStatus.APPROVED
    makeup = decision.makeup if approved else None
    note = absence.decision_note.strip()
    params = _notice_values(absence)
    if makeup is not None:
        params["date"] = makeup.due_date.isoformat()
    if note:
        params["note"] = note
    if is_quota(absence) and makeup is None:
        body = _QUOTA_DECISION_BODIES[(approved, bool(note))]
    else:
        params.setdefault("requirement", absence.requirement[:150])
        body = _DECISION_BODIES[(approved, makeup is not None, bool(note))]
    notify(
        absence.person.user,
        kind=NotificationKind.GENERAL,
        title=_DECISION_TITLES[approved],
        body=body,
        url=reverse("learning_absences"),
        dedupe_key=f"absence:{absence.pk}:decided",
        params=params,
    )


# --- Withdrawing ------------------------------------------------------------------------------


def do_withdraw_absence(absence: AbsenceRequest, *, by, request=None) -> AbsenceRequest:
    """The person takes back their own pending request. Raises Http404 for anyone else's and
    AbsenceError once it is decided or withdrawn."""
    with transaction.atomic():
        row = own_requests(by).select_for_update().filter(pk=absence.pk).first()
        if row is None:
            raise Http404("No such absence request")
        if row.status != AbsenceStatus.PENDING:
            raise AbsenceError(
                _("This request has already been decided, so it cannot be withdrawn.")
            )
        row.status = AbsenceStatus.WITHDRAWN
        row.decided_at = timezone.now()
        row.save(update_fields=["status", "decided_at"])
        record_access(
            request,
            user=by,
            action=Action.CHANGE,
            obj=row,
            person_id=row.person_id,
            detail=f"absence withdrawn: {row.requirement_key} {row.period:%Y-%m}",
        )
        _settle_handlers_notice(row)
    return row


# --- Evidence ---------------------------------------------------------------------------------


def open_evidence(absence: AbsenceRequest, *, user, request=None):
    """The evidence file opened for reading, its access logged; Http404 if there is none (or it
    is gone from the disk). Call only after the viewer was checked."""
    if not absence.evidence:
        raise Http404("No evidence")
    try:
        handle = absence.evidence.storage.open(absence.evidence.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("Evidence file missing") from None
    record_access(
        request,
        user=user,
        action=Action.VIEW,
        obj=absence,
        person_id=absence.person_id,
        detail="absence evidence",
    )
    return handle
