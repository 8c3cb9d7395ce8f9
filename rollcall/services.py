"""Roll-calls: the policy, starting a call, the person's join, the officer's confirmation.

Naming follows the house contract: ``access_*`` fetches and checks permission, ``check_*``
validates, ``do_*`` writes (and pushes after commit). Presence from the video server is in
``rollcall.presence``; the minute tick and the spot-check draw in ``rollcall.tick``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import Action
from audit.services import Entry, record_access, record_access_many
from lib.broadcast import send_to_group, send_to_users
from live import jitsi
from live.audience import audience_persons
from live.models import Lecture
from notifications.models import NotificationKind
from notifications.services import Recipient, notify_each
from participation.models import FollowUp, FollowUpStage, FollowUpStep
from people.models import Category, Office, Person, User
from people.roles import Role, roles_of
from people.services import access_person_for_user
from rollcall import decide as rules_decide
from rollcall.models import (
    CLOSED_STATES,
    CallKind,
    Confirmation,
    RollCall,
    RollCallPolicy,
    RollCallTarget,
    TargetState,
)
from rollcall.policy import DEFAULT_RULES, PolicyInvalid, RollCallRules, parse_rules

FOLLOW_UP_PREFIX = "rollcall:"
NOTE_MAX = 1000
# An officer's token outlives the room's close by this much: the confirmation may take a while.
STAFF_GRACE = dt.timedelta(minutes=30)


class RollCallError(ValidationError):
    """A refused request, with a message in the reader's language; nothing was changed."""


class AlreadyRinging(RollCallError):
    pass


class CallEnded(RollCallError):
    pass


# --- Policy ----------------------------------------------------------------------------------


def current_policy() -> RollCallPolicy:
    """The active version (the first one comes with migration 0002); created from the shipped
    defaults if a database somehow has none."""
    policy = RollCallPolicy.objects.current()
    if policy is None:
        policy = RollCallPolicy.objects.order_by("-version").first()
    if policy is None:
        policy = RollCallPolicy.objects.create(version=1, rules=DEFAULT_RULES, active=True)
    return policy


@functools.lru_cache(maxsize=32)
def _rules_cached(version: int, frozen: str) -> RollCallRules:
    """Parsed once per version and content (versions are never edited)."""
    return parse_rules(json.loads(frozen))


def rules_of(policy: RollCallPolicy) -> RollCallRules:
    return _rules_cached(policy.version, json.dumps(policy.rules, sort_keys=True))


def rules_of_version(version: int) -> RollCallRules:
    policy = RollCallPolicy.objects.filter(version=version).first() or current_policy()
    return rules_of(policy)


def check_policy_rules(data: object) -> RollCallRules:
    try:
        return parse_rules(data)
    except PolicyInvalid as error:
        raise ValidationError(str(error)) from None


class PolicyUnchanged(RollCallError):
    """The rules are the same as the version in use: no new version."""


def do_create_policy_version(data: object, *, note: str = "", by=None) -> RollCallPolicy:
    """Store ``data`` as the next version and make it the active one (ValidationError when the
    rules do not validate, ``PolicyUnchanged`` when they equal the version in use; nothing
    stored then). Versions are never edited."""
    rules = check_policy_rules(data).to_json()
    with transaction.atomic():
        latest = RollCallPolicy.objects.select_for_update().order_by("-version").first()
        current = RollCallPolicy.objects.current()
        if current is not None and rules_of(current).to_json() == rules:
            raise PolicyUnchanged(_("Nothing changed; no new version was saved."))
        RollCallPolicy.objects.filter(active=True).update(active=False)
        return RollCallPolicy.objects.create(
            version=(latest.version + 1) if latest else 1,
            rules=rules,
            active=True,
            note=(note or "").strip()[:200],
            created_by=by,
        )


def do_restore_policy(earlier: RollCallPolicy, *, note: str, by=None) -> RollCallPolicy:
    """Make ``earlier`` current again: a new version with its rules (the versions in between
    stay as they were). A note is required."""
    note = (note or "").strip()
    if not note:
        raise RollCallError(_("Say in a few words what changed; nothing was saved."))
    text = _("Version %(v)s made current again: %(note)s") % {"v": earlier.version, "note": note}
    return do_create_policy_version(earlier.rules, note=text, by=by)


def may_edit_policy(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or Role.ADMINISTRATOR in roles_of(user)


# --- Who may call whom -------------------------------------------------------------------------


def may_start_calls(user) -> bool:
    """Officers and administrators (and superusers) call persons in their scope."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(roles_of(user) & {Role.OFFICER, Role.ADMINISTRATOR})


def _require_caller(user) -> None:
    if not may_start_calls(user):
        raise PermissionDenied


def access_person_for_call(user, pk: int, request=None) -> Person:
    """The person ``pk`` for an officer who may call them; 404 out of scope (logged as a
    denial by ``access_person_for_user``), 403 for a role that never calls."""
    _require_caller(user)
    return access_person_for_user(user, pk, request=request)


@dataclass(frozen=True)
class Group:
    """Who a group call rings: an office (and the offices below it), a management category,
    or a lecture's audience; always narrowed to the caller's scope and active persons."""

    office: Office | None = None
    category: str = ""
    lecture: Lecture | None = None

    def describe(self) -> str:
        if self.office is not None:
            return _("Office: %(name)s") % {"name": self.office.name}
        if self.category:
            return _("Category: %(name)s") % {"name": Category(self.category).label}
        if self.lecture is not None:
            return _("Audience of the lecture %(title)s") % {"title": self.lecture.title}
        return ""


def group_persons(user, group: Group) -> QuerySet[Person]:
    """The active persons of ``group`` that ``user`` sees."""
    persons = Person.objects.visible_to(user).active()
    if group.office is not None:
        return persons.filter(office__path__startswith=group.office.path)
    if group.category:
        if group.category not in Category.values:
            raise RollCallError(_("Choose a management category."))
        return persons.filter(category=group.category)
    if group.lecture is not None:
        return persons.filter(pk__in=audience_persons(group.lecture).values("pk"))
    raise RollCallError(_("Choose who to call: an office, a category or a lecture."))


# --- Starting a call ---------------------------------------------------------------------------


@dataclass
class StartResult:
    call: RollCall
    targets: list[RollCallTarget] = field(default_factory=list)
    skipped: list[Person] = field(default_factory=list)  # a call was already ringing
    not_possible: bool = False


def _ring_payload(target: RollCallTarget, now: dt.datetime) -> dict:
    return {
        "type": "rollcall.ring",
        "target": target.pk,
        "url": reverse("rollcall_call", args=[target.pk]),
        "deadline": target.deadline.isoformat(),
        "seconds_left": max(0, int((target.deadline - now).total_seconds())),
    }


def _ring_all(targets: list[RollCallTarget], now: dt.datetime) -> None:
    """Push the call to each person's open sockets and leave each a notification (after
    commit): the rows in one insert and the pushes in one trip to the channel layer, so
    ringing 200 persons costs what ringing one does in queries."""
    send_to_users([(target.person.user_id, _ring_payload(target, now)) for target in targets])
    deadlines = {timezone.localtime(target.deadline).strftime("%H:%M") for target in targets}
    for deadline in sorted(deadlines):  # one text per deadline: one, for a call's targets
        notify_each(
            [
                Recipient(
                    user=target.person.user,
                    url=reverse("rollcall_call", args=[target.pk]),
                    dedupe_key=f"rollcall:{target.pk}:ring",
                )
                for target in targets
                if timezone.localtime(target.deadline).strftime("%H:%M") == deadline
            ],
            kind=NotificationKind.GENERAL,
            title=gettext_noop("Video roll-call: please join"),
            body=gettext_noop(
                "Your case officer is calling you for a short video check. Please join by %(time)s."
            ),
            params={"time": deadline},
        )


def do_start_call(
    officer: User | None,
    persons: list[Person],
    *,
    kind: str = CallKind.SINGLE,
    audience: str = "",
    office: Office | None = None,
    now: dt.datetime | None = None,
    server_up: bool | None = None,
) -> StartResult:
    """Ring ``persons`` now (``officer`` None: a scheduled spot check).

    A person outside the officer's scope refuses the whole call (``PermissionDenied``, the
    denial logged); a person whose previous call still rings is skipped (one person alone:
    ``AlreadyRinging``). When the video server does not answer (``live.jitsi.server_reachable``)
    every target is stored as not possible and nobody is rung. One transaction; the pushes go
    after commit."""
    now = now or timezone.now()
    if officer is not None:
        _require_caller(officer)
        visible = set(
            Person.objects.visible_to(officer)
            .filter(pk__in=[p.pk for p in persons])
            .values_list("pk", flat=True)
        )
        for person in persons:
            if person.pk not in visible:
                record_access(
                    user=officer,
                    action=Action.DENIED,
                    obj=person,
                    person_id=person.pk,
                    success=False,
                    detail="roll-call outside scope",
                )
                raise PermissionDenied
    if not persons:
        raise RollCallError(_("Nobody to call: the group has no active persons you can see."))
    if server_up is None:
        server_up = jitsi.server_reachable()
    policy = current_policy()
    rules = rules_of(policy)
    ringing = set(
        RollCallTarget.objects.ringing()
        .filter(person__in=[p.pk for p in persons])
        .values_list("person_id", flat=True)
    )
    result_skipped = [p for p in persons if p.pk in ringing]
    callable_persons = [p for p in persons if p.pk not in ringing]
    if not callable_persons:
        if len(persons) == 1:
            raise AlreadyRinging(
                _("A roll-call to %(name)s is still ringing. Wait until it ends.")
                % {"name": persons[0].full_name}
            )
        raise AlreadyRinging(_("Everyone in this group already has a roll-call ringing."))
    try:
        with transaction.atomic():
            call = RollCall.objects.create(
                kind=kind,
                started_by=officer,
                office=office or (officer.office if officer is not None else None),
                audience=audience[:200],
                created=now,
            )
            targets = [
                RollCallTarget(
                    call=call,
                    person=person,
                    state=TargetState.RINGING if server_up else TargetState.NOT_POSSIBLE,
                    result="" if server_up else "not_possible",
                    participant_id=jitsi.participant_id(person.user_id),
                    rung_at=now,
                    deadline=rules_decide.deadline(now, rules),
                    closes_at=rules_decide.closes_at(now, rules),
                    policy_version=policy.version,
                )
                for person in callable_persons
            ]
            RollCallTarget.objects.bulk_create(targets)
            targets = list(RollCallTarget.objects.filter(call=call).select_related("person__user"))
            push_board(*targets)
            if server_up:
                _ring_all(targets, now)
            if officer is not None:
                record_access_many(
                    user=officer,
                    action=Action.CHANGE,
                    entries=[
                        Entry(
                            obj=target,
                            person_id=target.person_id,
                            detail=f"roll-call started ({kind})",
                        )
                        for target in targets
                    ],
                )
    except IntegrityError:
        # a concurrent call to the same person started between the check and the insert
        raise AlreadyRinging(
            _("Another roll-call to this person started at the same moment. Try again later.")
        ) from None
    return StartResult(
        call=call, targets=targets, skipped=result_skipped, not_possible=not server_up
    )


# --- The person's side -----------------------------------------------------------------------


def access_target_for_learner(user, pk: int) -> RollCallTarget:
    """The person's own call; 404 for anyone else's (existence is not revealed)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    target = (
        RollCallTarget.objects.select_related("person__user", "call")
        .filter(pk=pk, person__user=user)
        .first()
    )
    if target is None:
        raise Http404
    return target


def check_joinable(target: RollCallTarget, now: dt.datetime) -> None:
    """``CallEnded`` unless the room is still open for this target."""
    if target.state in CLOSED_STATES or now >= target.closes_at:
        raise CallEnded(_("This roll-call has ended. You do not need to do anything now."))


def _mark_not_possible(target: RollCallTarget) -> None:
    changed = RollCallTarget.objects.filter(
        pk=target.pk, state__in=[TargetState.RINGING, TargetState.JOINED]
    ).update(state=TargetState.NOT_POSSIBLE, result="not_possible")
    target.refresh_from_db()
    if changed:
        push_board(target)


def do_join(
    user, target: RollCallTarget, *, moderator: bool, now: dt.datetime | None = None
) -> dict:
    """The Jitsi embed settings for ``target``'s one-to-one room (``live.jitsi.embed_settings``):
    the person's token expires when the room closes, an officer's a little later. Refuses
    (``CallEnded``) once the call is over; a video server that does not answer makes the call
    not possible (never missed) and refuses too. Raises ``JitsiNotConfigured`` when no token
    can be made."""
    now = now or timezone.now()
    check_joinable(target, now)
    if not jitsi.server_reachable():
        _mark_not_possible(target)
        raise CallEnded(
            _(
                "The video service cannot be reached right now, so this roll-call is cancelled. "
                "This is not held against you."
            )
        )
    pid = jitsi.participant_id(user.pk)
    if moderator and pid not in target.staff_participants:
        with transaction.atomic():
            locked = RollCallTarget.objects.select_for_update().get(pk=target.pk)
            if pid not in locked.staff_participants:
                locked.staff_participants = [*locked.staff_participants, pid]
                locked.save(update_fields=["staff_participants"])
        target.staff_participants = [*target.staff_participants, pid]
    valid_until = target.closes_at + (STAFF_GRACE if moderator else dt.timedelta(0))
    display = user.get_full_name() if moderator else target.person.full_name
    return jitsi.embed_settings(
        room=target.room_name,
        user_pk=user.pk,
        display_name=display or user.get_username(),
        moderator=moderator,
        now=now,
        valid_until=valid_until,
    )


# --- The officer's side --------------------------------------------------------------------------


def access_target_for_staff(user, pk: int, request=None) -> RollCallTarget:
    """A call to a person ``user`` sees, for a user who may make calls; 404 otherwise (the
    view logged)."""
    _require_caller(user)
    target = (
        RollCallTarget.objects.visible_to(user)
        .select_related("person__user", "person__office", "call", "confirmed_by")
        .filter(pk=pk)
        .first()
    )
    if target is None:
        raise Http404
    record_access(request, user=user, action=Action.VIEW, obj=target, person_id=target.person_id)
    return target


def check_confirmation(confirmation: str, note: str) -> str:
    note = (note or "").strip()
    if confirmation not in Confirmation.values:
        raise RollCallError(_("Choose what you saw."))
    if confirmation == Confirmation.OTHER and not note:
        raise RollCallError(_("Please say in the note what you saw."))
    if len(note) > NOTE_MAX:
        raise RollCallError(_("The note is longer than %(max)s characters.") % {"max": NOTE_MAX})
    if "\x00" in note:
        raise RollCallError(_("The note contains characters that cannot be stored."))
    return note


def do_confirm(
    target: RollCallTarget, user: User, *, confirmation: str, note: str = "", now=None
) -> RollCallTarget:
    """The officer's confirmation of who they saw. Only once the video server has seen the
    person join (``joined``, or ``confirmed`` to correct it); the result follows the policy
    (a failed confirmation counts as missed)."""
    note = check_confirmation(confirmation, note)
    now = now or timezone.now()
    with transaction.atomic():
        row = RollCallTarget.objects.select_for_update().get(pk=target.pk)
        if row.state not in (TargetState.JOINED, TargetState.CONFIRMED) or row.joined_at is None:
            raise RollCallError(
                _("The video server has not seen this person join yet; nothing to confirm.")
            )
        rules = rules_of_version(row.policy_version)
        before = row.result
        row.confirmation = confirmation
        row.confirmation_note = note
        row.confirmed_by = user
        row.confirmed_at = now
        row.state = TargetState.CONFIRMED
        row.result = rules_decide.decide(
            first_join=row.joined_at,
            rung_at=row.rung_at,
            now=now,
            rules=rules,
            confirmation=confirmation,
        )
        row.save(
            update_fields=[
                "confirmation",
                "confirmation_note",
                "confirmed_by",
                "confirmed_at",
                "state",
                "result",
            ]
        )
        record_access(
            user=user,
            action=Action.CHANGE,
            obj=row,
            person_id=row.person_id,
            detail=f"roll-call confirmed: {confirmation}",
        )
        if before == "missed" and row.result != "missed":
            resolve_follow_up(row, "met", now)
        push_board(row)
    return row


def do_excuse(target: RollCallTarget, user: User, *, note: str, now=None) -> RollCallTarget:
    """The officer excuses the call (a documented reason): result excused, any follow-up of
    it resolved. A note is required."""
    note = (note or "").strip()
    if not note:
        raise RollCallError(_("Please say why the roll-call is excused."))
    check_confirmation(Confirmation.OTHER, note)
    now = now or timezone.now()
    with transaction.atomic():
        row = RollCallTarget.objects.select_for_update().get(pk=target.pk)
        if row.state in (TargetState.EXCUSED, TargetState.NOT_POSSIBLE):
            raise RollCallError(_("This roll-call is already closed."))
        row.state = TargetState.EXCUSED
        row.result = "excused"
        row.confirmation_note = note
        row.confirmed_by = user
        row.confirmed_at = now
        row.save(
            update_fields=["state", "result", "confirmation_note", "confirmed_by", "confirmed_at"]
        )
        record_access(
            user=user,
            action=Action.CHANGE,
            obj=row,
            person_id=row.person_id,
            detail="roll-call excused",
        )
        resolve_follow_up(row, "excused", now)
        push_board(row)
    return row


def resolve_follow_up(target: RollCallTarget, how: str, now: dt.datetime) -> None:
    """Resolve the follow-up a missed call opened (it was excused, or a late event showed
    the person did join)."""
    follow_up = FollowUp.objects.filter(requirement_key=follow_up_key(target)).first()
    if follow_up is None or follow_up.stage == FollowUpStage.RESOLVED:
        return
    changed = (
        FollowUp.objects.filter(pk=follow_up.pk)
        .exclude(stage=FollowUpStage.RESOLVED)
        .update(stage=FollowUpStage.RESOLVED, resolved_at=now, resolution=how)
    )
    if changed:
        FollowUpStep.objects.create(
            follow_up=follow_up, kind="resolved", at=now, detail={"resolution": how}
        )


def board_payload(target: RollCallTarget) -> dict:
    """One target's row as the officer's board shows it (``static/rollcall/board.js``)."""
    return {
        "type": "rollcall.target",
        "target": target.pk,
        "call": target.call_id,
        "state": target.state,
        "result": target.result,
        "joined_at": timezone.localtime(target.joined_at).strftime("%H:%M:%S")
        if target.joined_at
        else None,
    }


def access_board_socket(user, call_id: int) -> list[dict] | None:
    """The rows (``board_payload``) of call ``call_id`` that ``user``'s board socket may
    receive, as they are now: those of the persons they see, as on the call page
    (``admin_views.call_detail``). None (the socket is refused) for a user who may not make
    calls (the denial logged) or who sees nobody in it. The opening is logged as a view of
    the call."""
    if not may_start_calls(user):
        record_access(
            user=user,
            action=Action.DENIED,
            object_type="rollcall.rollcall",
            object_id=call_id,
            success=False,
            detail="roll-call board socket needs an officer",
        )
        return None
    targets = list(RollCallTarget.objects.visible_to(user).filter(call_id=call_id).order_by("pk"))
    if not targets:
        return None
    record_access(
        user=user,
        action=Action.VIEW,
        object_type="rollcall.rollcall",
        object_id=call_id,
        detail=f"board socket, {len(targets)} targets",
    )
    return [board_payload(target) for target in targets]


def board_targets_now(user_id: int, call_id: int) -> frozenset[int]:
    """The targets of call ``call_id`` whose rows the user's open board may still receive:
    those of the persons they see now (an officer moved to another office, or no longer an
    officer, sees fewer or none). The user is read afresh (a socket's copy keeps the roles
    and office it opened with); a few queries."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not may_start_calls(user):
        return frozenset()
    return frozenset(
        RollCallTarget.objects.visible_to(user).filter(call_id=call_id).values_list("pk", flat=True)
    )


def board_group(call_id: int) -> str:
    """The channel-layer group of one call's board sockets (``rollcall.consumers``)."""
    return f"rollcall.{call_id}"


def push_board(*targets: RollCallTarget) -> None:
    """Send changed rows (targets of one call) to every socket watching that call's board,
    after commit (``rollcall.consumers.BoardConsumer``; each socket passes on only the rows of
    persons its user sees). The person's own pages need no push: their call page asks the
    server when they join."""
    if not targets:
        return
    rows_by_call: dict[int, list[dict]] = {}
    for target in targets:
        rows_by_call.setdefault(target.call_id, []).append(board_payload(target))
    for call_id, rows in rows_by_call.items():
        send_to_group(board_group(call_id), {"type": "rollcall.rows", "rows": rows})


def follow_up_key(target: RollCallTarget) -> str:
    return f"{FOLLOW_UP_PREFIX}{target.pk}"


def history_for(person: Person) -> QuerySet[RollCallTarget]:
    return (
        RollCallTarget.objects.filter(person=person)
        .select_related("call__started_by", "confirmed_by")
        .order_by("-rung_at", "-pk")
    )


# --- Subject-access export ----------------------------------------------------------------------


def collect_rollcall_data(person: Person) -> dict:
    """The person's roll-calls as the video server and the officer recorded them
    (``people.privacy``). The officer's note is included: it is about the person."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    return {
        "roll_calls": [
            {
                "kind": t.call.kind,
                "rang_at": when(t.rung_at),
                "answer_by": when(t.deadline),
                "text_message_at": when(t.sms_sent_at),
                "joined_at": when(t.joined_at),
                "left_at": when(t.left_at),
                "officer_confirmation": t.confirmation,
                "officer_note": t.confirmation_note,
                "result": t.result,
                "policy_version": t.policy_version,
            }
            for t in RollCallTarget.objects.filter(person=person)
            .select_related("call")
            .order_by("rung_at", "pk")
        ]
    }
