"""Scheduled work (``ops/schedule.py``): the minute tick and the daily spot-check draw.

Every step claims its rows with a conditional UPDATE or a unique key before it acts, so a
worker restarted mid-way, or two ticks at once, lose nothing and do nothing twice:

- **text-message fallback**: a call still ringing ``sms_after_seconds`` after it rang gets one
  SMS with the link (the delivery log's key ``rollcall:<id>:sms`` makes a second send
  impossible; ``sms_sent_at`` is set after it);
- **deadlines**: a call whose room has closed is recomputed from the server's events
  (``rollcall.presence``): joined, or missed;
- **follow-up**: a missed call opens a follow-up task for the case officer in
  ``participation``'s follow-up list (key ``rollcall:<id>``, unique) and tells the officer;
- **escalation**: a task the officer has not acted on ``escalate_after_hours`` after it was
  given goes to the administrators of the person's office, once;
- **spot checks**: planned checks whose time has come ring (``SpotCheck.started_at`` claimed
  in the same transaction as the call). The daily job draws the week's and the month's
  checks (``rollcall.sampling``; ``SpotCheck`` is unique per person, period and number).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from live import jitsi
from notifications.models import Channel, NotificationKind
from notifications.senders import do_deliver
from notifications.services import notify
from participation.models import FollowUp, FollowUpStage, FollowUpStep
from participation.requirements import month_start
from people.models import Person, User
from people.roles import Role
from rollcall import sampling
from rollcall.models import CallKind, RollCallTarget, SpotCheck, TargetState
from rollcall.presence import do_update_from_events
from rollcall.services import (
    FOLLOW_UP_PREFIX,
    AlreadyRinging,
    current_policy,
    do_start_call,
    follow_up_key,
    rules_of,
    rules_of_version,
)

log = logging.getLogger(__name__)


def _site_url(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def do_send_sms_fallback(now: dt.datetime) -> int:
    """One SMS with the link to each call still ringing past the policy's delay. The delivery
    log's key (``rollcall:<id>:sms``, unique) guards the send itself; ``sms_sent_at`` is set
    after it, so a worker that dies in between sends nothing twice and loses nothing (the next
    tick finds the key used and only marks the call)."""
    sent = 0
    ringing = RollCallTarget.objects.ringing().filter(sms_sent_at=None, closes_at__gt=now)
    for target in ringing.select_related("person__user").order_by("pk"):
        rules = rules_of_version(target.policy_version)
        if target.rung_at + dt.timedelta(seconds=rules.sms_after_seconds) > now:
            continue
        body = _(
            "Video roll-call: please open %(url)s and join by %(time)s. This is a routine check."
        ) % {
            "url": _site_url(reverse("rollcall_call", args=[target.pk])),
            "time": timezone.localtime(target.deadline).strftime("%H:%M"),
        }
        delivery = do_deliver(
            target.person.user,
            channel=Channel.SMS,
            body=body,
            dedupe_key=f"rollcall:{target.pk}:sms",
        )
        RollCallTarget.objects.filter(pk=target.pk, sms_sent_at=None).update(sms_sent_at=now)
        sent += delivery is not None and delivery.status == "sent"
    return sent


def do_close_expired(now: dt.datetime) -> int:
    """Decide every call whose room has closed and that still rings or is joined without a
    result: from the stored events, as an event would."""
    due = RollCallTarget.objects.filter(
        Q(state=TargetState.RINGING) | Q(state=TargetState.JOINED, result=""),
        closes_at__lte=now,
    ).values_list("room_name", flat=True)
    missed = 0
    for room in list(due):
        target = do_update_from_events(room, now)
        missed += target is not None and target.state == TargetState.MISSED
    return missed


def _officers_for(person: Person) -> list[User]:
    officer = person.case_officer
    if officer is not None and officer.is_active:
        return [officer]
    return list(
        User.objects.filter(
            is_active=True, groups__name=Role.OFFICER, office_id=person.office_id
        ).order_by("pk")
    )


def do_open_follow_ups(now: dt.datetime) -> int:
    """A follow-up task for the officer per missed call (once)."""
    opened = 0
    missed = RollCallTarget.objects.filter(result="missed", follow_up_opened_at=None)
    for target in missed.select_related("person__case_officer", "person__office").order_by("pk"):
        rules = rules_of_version(target.policy_version)
        person = target.person
        officers = _officers_for(person)
        case_officer = person.case_officer if officers[:1] == [person.case_officer] else None
        when = timezone.localtime(target.rung_at).strftime("%Y-%m-%d %H:%M")
        # stored for every reader of the follow-up list: in the site's language, whatever
        # language the code that runs the tick happens to have active
        with translation.override(settings.LANGUAGE_CODE):
            requirement = _("Video roll-call at %(when)s not answered") % {"when": when}
        with transaction.atomic():
            claimed = RollCallTarget.objects.filter(pk=target.pk, follow_up_opened_at=None).update(
                follow_up_opened_at=now
            )
            if not claimed:
                continue
            follow_up, created = FollowUp.objects.get_or_create(
                requirement_key=follow_up_key(target),
                person=person,
                period=month_start(timezone.localdate(target.rung_at)),
                defaults={
                    "requirement": requirement[:255],
                    "stage": FollowUpStage.OFFICER,
                    "opened_at": now,
                    "officer": case_officer,
                    "officer_task_at": now,
                    "officer_due": timezone.localdate(
                        now + dt.timedelta(hours=rules.escalate_after_hours)
                    ),
                },
            )
            if not created:
                continue
            FollowUpStep.objects.create(
                follow_up=follow_up, kind="opened", at=now, detail={"rollcall": target.pk}
            )
            FollowUpStep.objects.create(
                follow_up=follow_up,
                kind="officer_task",
                at=now,
                detail={"officers": [o.pk for o in officers], "rollcall": target.pk},
            )
            for officer in officers:
                notify(
                    officer,
                    kind=NotificationKind.REMINDER,
                    title=gettext_noop("Roll-call missed: %(name)s"),
                    body=gettext_noop(
                        "%(name)s did not answer the video roll-call at %(when)s. Please "
                        "follow up and record what you did."
                    ),
                    params={"name": person.full_name, "when": when},
                    url=reverse("learning_followup_detail", args=[follow_up.pk]),
                    dedupe_key=f"rollcall:{target.pk}:followup",
                )
        opened += 1
    return opened


def do_escalate(now: dt.datetime) -> int:
    """Tasks unanswered for ``escalate_after_hours`` go to the administrators, once."""
    hours = rules_of(current_policy()).escalate_after_hours
    late = FollowUp.objects.filter(
        requirement_key__startswith=FOLLOW_UP_PREFIX,
        stage=FollowUpStage.OFFICER,
        officer_acted_at=None,
        officer_task_at__lte=now - dt.timedelta(hours=hours),
    ).select_related("person__office")
    administrators = list(
        User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
        .exclude(office=None)
        .select_related("office")
        .order_by("pk")
    )
    escalated = 0
    for follow_up in late:
        with transaction.atomic():
            changed = FollowUp.objects.filter(
                pk=follow_up.pk, stage=FollowUpStage.OFFICER, officer_acted_at=None
            ).update(stage=FollowUpStage.ADMINISTRATOR, escalated_at=now)
            if not changed:
                continue
            path = follow_up.person.office.path
            to = [a for a in administrators if path.startswith(a.office.path)]
            FollowUpStep.objects.create(
                follow_up=follow_up,
                kind="escalated",
                at=now,
                detail={"administrators": [a.pk for a in to]},
            )
            for admin in to:
                notify(
                    admin,
                    kind=NotificationKind.REMINDER,
                    title=gettext_noop("Missed roll-call not followed up: %(name)s"),
                    body=gettext_noop(
                        "The case officer has not recorded a follow-up of %(name)s's missed "
                        "video roll-call within %(hours)s hours."
                    ),
                    params={"name": follow_up.person.full_name, "hours": hours},
                    url=reverse("learning_followup_detail", args=[follow_up.pk]),
                    dedupe_key=f"rollcall:followup:{follow_up.pk}:escalated",
                )
        escalated += 1
    return escalated


def do_start_due_spot_checks(now: dt.datetime) -> int:
    """Ring the planned spot checks whose time has come, each once: the check is claimed and
    its call stored in one transaction, so a worker that dies mid-way leaves the check to the
    next tick. A person whose earlier call still rings is tried again at the next tick; a
    person no longer supervised is dropped. The video server is asked once per tick."""
    due = list(
        SpotCheck.objects.filter(started_at=None, at__lte=now)
        .select_related("person__user", "person__office")
        .order_by("at", "pk")
    )
    if not due:
        return 0
    server_up = jitsi.server_reachable()
    started = 0
    for check in due:
        person = check.person
        if person.status != "active":
            SpotCheck.objects.filter(pk=check.pk, started_at=None).update(started_at=now)
            continue
        if RollCallTarget.objects.ringing().filter(person=person).exists():
            continue
        try:
            with transaction.atomic():
                claimed = SpotCheck.objects.filter(pk=check.pk, started_at=None).update(
                    started_at=now
                )
                if not claimed:
                    continue
                result = do_start_call(
                    None,
                    [person],
                    kind=CallKind.SPOT,
                    audience=_("Spot check"),
                    office=person.office,
                    now=now,
                    server_up=server_up,
                )
                SpotCheck.objects.filter(pk=check.pk).update(target=result.targets[0])
        except AlreadyRinging:
            continue
        started += 1
    return started


def do_tick(now: dt.datetime | None = None) -> dict[str, int]:
    """The minute tick (``rollcall_tick``)."""
    now = now or timezone.now()
    return {
        "spot_checks_started": do_start_due_spot_checks(now),
        "sms_sent": do_send_sms_fallback(now),
        "missed": do_close_expired(now),
        "follow_ups_opened": do_open_follow_ups(now),
        "escalated": do_escalate(now),
    }


# --- The daily draw -----------------------------------------------------------------------------


def period_seed(period: sampling.Period) -> str:
    """Unpredictable to the persons, reproducible by the server."""
    return salted_hmac("rollcall.sampling", period.key, algorithm="sha256").hexdigest()


def do_draw_spot_checks(today: dt.date | None = None) -> int:
    """Draw the current week's and month's spot checks for every active person who has none
    in that period yet (``rollcall.sampling.draw``), from now on only. Returns how many were
    planned."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    policy = current_policy()
    rules = rules_of(policy)
    tz = timezone.get_current_timezone()
    planned = 0
    for period in (sampling.week_of(today), sampling.month_of(today)):
        kinds = [c for c, rule in rules.spot_checks.items() if rule.per == period.kind]
        have = set(SpotCheck.objects.filter(period=period.key).values_list("person_id", flat=True))
        candidates = [
            sampling.Candidate(pk, category)
            for pk, category in Person.objects.active()
            .filter(category__in=kinds)
            .exclude(pk__in=have)
            .values_list("pk", "category")
        ]
        if not candidates:
            continue
        window = dt.timedelta(days=31)
        busy: dict[int, list[dt.datetime]] = defaultdict(list)
        for person_id, at in SpotCheck.objects.filter(
            person_id__in=[c.person_id for c in candidates],
            at__gte=now - window,
            at__lte=now + window + dt.timedelta(days=31),
        ).values_list("person_id", "at"):
            busy[person_id].append(at)
        draws = sampling.draw(
            candidates, period, rules, period_seed(period), busy, tz=tz, not_before=now
        )
        rows = [
            SpotCheck(
                person_id=d.person_id,
                period=period.key,
                seq=d.seq,
                at=d.at,
                policy_version=policy.version,
            )
            for d in draws
        ]
        try:
            with transaction.atomic():
                SpotCheck.objects.bulk_create(rows, ignore_conflicts=True)
        except IntegrityError:  # pragma: no cover - ignore_conflicts covers the race
            log.warning("spot checks of %s drawn twice at once", period.key)
        planned += len(rows)
    return planned
