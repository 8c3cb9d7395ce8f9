"""Follow-up of unmet participation: remind the person, then the case officer, then the
bureau's administrators, until the requirement is met or excused.

``run_follow_up(today)`` is the daily job (``python manage.py run_follow_up``). It is
idempotent: run it as often as you like; each step happens once, and nobody hears twice
about the same thing on the same day (dedupe keys carry the date). One run:

1. decides the months that matter from the ledger (``participation.requirements.month_results``):
   the current month once ``days_left <= FollowUpPolicy.at_risk_days_left``, the previous
   month (its missed requirements) and the month of any follow-up still open;
2. resolves open follow-ups whose requirement is now met or excused (or whose person is no
   longer under supervision);
3. opens a ``FollowUp`` per unmet requirement (unique per person, month and requirement);
4. gives the case officer a task ``officer_after_days`` after the first reminder, and tells
   the administrators when the officer has not acted by ``officer_due``;
5. reminds each person with open follow-ups: in the app, and by text message and email
   (``notifications.senders``); once a day while the month is at risk, once when it is missed.

Every step appends a ``FollowUpStep`` (who, when, what, channel, delivery id).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from notifications.models import Channel, NotificationKind
from notifications.senders import do_deliver
from notifications.services import notify
from participation.models import (
    FollowUp,
    FollowUpStage,
    FollowUpStep,
    ParticipationRecord,
    ParticipationSource,
    ReminderKind,
)
from participation.reminders import current_policy, reminder_templates, render
from participation.requirements import (
    COURSE,
    LECTURE,
    QUOTA,
    MonthResult,
    days_left,
    hours,
    month_results,
    month_start,
    requirement_labels,
)
from people.models import Person, User
from people.roles import Role, roles_of

OPEN_STAGES = (FollowUpStage.REMINDED, FollowUpStage.OFFICER, FollowUpStage.ADMINISTRATOR)
# Requirement-key prefixes of follow-ups another app opens and works itself (``rollcall:``, a
# missed video roll-call): they share the officer's list and ``do_record_action``, but the
# daily run neither resolves nor escalates them (``register_follow_up_owner``).
OWNED_PREFIXES: set[str] = set()
TASK_STAGES = (FollowUpStage.OFFICER, FollowUpStage.ADMINISTRATOR)
NOTE_MAX = 1000


class Step:
    OPENED = "opened"
    REOPENED = "reopened"
    REMINDED = "reminded"
    MISSED_REMINDER = "reminded_missed"
    OFFICER_TASK = "officer_task"
    OFFICER_ACTION = "officer_action"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    OFFICER_NOTIFIED = "officer_notified"
    ADMIN_NOTIFIED = "admin_notified"


STEP_LABELS = {
    Step.OPENED: gettext_lazy("Follow-up opened"),
    Step.REOPENED: gettext_lazy("Follow-up opened again"),
    Step.REMINDED: gettext_lazy("Person reminded"),
    Step.MISSED_REMINDER: gettext_lazy("Person told the month was missed"),
    Step.OFFICER_TASK: gettext_lazy("Task given to the case officer"),
    Step.OFFICER_ACTION: gettext_lazy("Officer recorded an action"),
    Step.ESCALATED: gettext_lazy("Escalated to the administrators"),
    Step.RESOLVED: gettext_lazy("Resolved"),
    Step.OFFICER_NOTIFIED: gettext_lazy("Case officer notified"),
    Step.ADMIN_NOTIFIED: gettext_lazy("Administrator notified"),
}


class Resolution(models.TextChoices):
    MET = "met", gettext_lazy("Requirement met")
    EXCUSED = "excused", gettext_lazy("Excused")
    ENDED = "ended", gettext_lazy("No longer under supervision")


class OfficerAction(models.TextChoices):
    CALLED = "called", gettext_lazy("Called the person")
    VISITED = "visited", gettext_lazy("Visited the person")
    MAKEUP = "makeup", gettext_lazy("Arranged a makeup")
    EXCUSED = "excused", gettext_lazy("Filed an excused absence")
    OTHER = "other", gettext_lazy("Other")


def register_follow_up_owner(prefix: str) -> None:
    """Follow-ups whose requirement key starts with ``prefix`` belong to the registering app
    (it opens, escalates and closes them); ``run_follow_up`` leaves them alone."""
    OWNED_PREFIXES.add(prefix)


def _owned_elsewhere() -> models.Q:
    condition = models.Q(pk__in=[])
    for prefix in sorted(OWNED_PREFIXES):
        condition |= models.Q(requirement_key__startswith=prefix)
    return condition


# --- What is missing, in words ----------------------------------------------------------------


def describe_missing(kind: str, minutes_short: int) -> str:
    """“3.5 hours still needed”, “course not yet completed”, “lecture not attended”."""
    if kind == QUOTA:
        return _("%(hours)s hours still needed") % {"hours": hours(minutes_short)}
    if kind == COURSE:
        return _("course not yet completed")
    if kind == LECTURE:
        return _("lecture not attended")
    return _("not yet done")


def _separator() -> str:
    return "、" if (translation.get_language() or "").startswith("zh") else ", "


def _month_label(period: dt.date) -> str:
    return date_format(period, "YEAR_MONTH_FORMAT")


@dataclass
class _Open:
    """An open follow-up and where it stands in this run."""

    follow_up: FollowUp
    result: MonthResult
    missing_text: str
    minutes_short: int


def _values(person: Person, items: list[_Open]) -> dict[str, str]:
    result = items[0].result
    parts = []
    blank = [item.follow_up.requirement_key for item in items if not item.follow_up.requirement]
    labels = requirement_labels(blank) if blank else {}
    for item in items:
        title = item.follow_up.requirement or labels[item.follow_up.requirement_key]
        if item.minutes_short:
            title = _("%(title)s (%(missing)s)") % {"title": title, "missing": item.missing_text}
        parts.append(f"“{title}”" if not title.startswith("“") else title)
    return {
        "name": person.full_name,
        "requirement": _separator().join(parts),
        "days_left": str(result.days_left),
        "hours_short": str(result.hours_short),
        "month": _month_label(result.period),
    }


# --- The daily run ------------------------------------------------------------------------------


@dataclass
class RunSummary:
    opened: int = 0
    resolved: int = 0
    reminded: int = 0
    officer_tasks: int = 0
    escalated: int = 0
    deliveries: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.opened} opened, {self.resolved} resolved, {self.reminded} persons reminded, "
            f"{self.officer_tasks} officer tasks, {self.escalated} escalated, "
            f"{self.deliveries} messages sent"
        )


def _moment(today: dt.date) -> dt.datetime:
    """Now, or noon of ``today`` when the run is for another day (tests, catching up)."""
    now = timezone.now()
    if timezone.localdate(now) == today:
        return now
    return timezone.make_aware(dt.datetime.combine(today, dt.time(12)))


def run_follow_up(today: dt.date | None = None) -> RunSummary:
    """The daily follow-up (see the module docstring). Safe to run many times a day."""
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        return _Run(today).run()


class _Run:
    def __init__(self, today: dt.date):
        self.today = today
        self.moment = _moment(today)
        self.policy = current_policy()
        self.templates = reminder_templates()
        self.summary = RunSummary()
        self.current = month_start(today)
        self.previous = month_start(self.current - dt.timedelta(days=1))

    def run(self) -> RunSummary:
        results = self._results()
        items = self._resolve_and_open(results)
        self._officer_tasks(items)
        self._escalate(items)
        self._remind(items)
        return self.summary

    # 1. The months that matter
    def _results(self) -> dict[dt.date, dict[int, MonthResult]]:
        active = Person.objects.active()
        self.opening = [self.previous]
        results = {self.previous: month_results(active, self.previous, self.today)}
        if days_left(self.current, self.today) <= self.policy.at_risk_days_left:
            self.opening.append(self.current)
            results[self.current] = month_results(active, self.current, self.today)
        self.open_rows = list(
            FollowUp.objects.filter(stage__in=OPEN_STAGES, period__lte=self.current)
            .exclude(_owned_elsewhere())
            .select_related("person__user", "person__office", "person__case_officer")
            .order_by("pk")
        )
        others = defaultdict(set)
        for row in self.open_rows:
            if row.period not in results:
                others[row.period].add(row.person_id)
        for period, person_ids in others.items():
            results[period] = month_results(active.filter(pk__in=person_ids), period, self.today)
        return results

    # 2 + 3. Resolve what is done, open what is not
    def _resolve_and_open(self, results) -> list[_Open]:
        items: list[_Open] = []
        to_resolve: list[tuple[FollowUp, MonthResult | None]] = []
        seen = set()
        for row in self.open_rows:
            seen.add((row.person_id, row.period, row.requirement_key))
            result = results[row.period].get(row.person_id)
            missing = {m.key: m for m in result.missing} if result else {}
            if row.requirement_key in missing:
                m = missing[row.requirement_key]
                items.append(
                    _Open(row, result, describe_missing(m.kind, m.minutes_short), m.minutes_short)
                )
            else:
                to_resolve.append((row, result))
        self._resolve(to_resolve)

        wanted = [
            (person_id, period, m, result)
            for period in self.opening
            for person_id, result in results[period].items()
            for m in result.missing
            if (person_id, period, m.key) not in seen
        ]
        if wanted:
            items.extend(self._open(wanted))
        return items

    def _resolve(self, rows: list[tuple[FollowUp, MonthResult | None]]) -> None:
        if not rows:
            return
        excused = set(
            ParticipationRecord.objects.filter(
                source=ParticipationSource.EXCUSED,
                person_id__in={row.person_id for row, _r in rows},
                period__in={row.period for row, _r in rows},
            ).values_list("person_id", "period", "requirement_key")
        )
        for row, result in rows:
            if result is None:
                how = Resolution.ENDED
            elif (row.person_id, row.period, row.requirement_key) in excused:
                how = Resolution.EXCUSED
            else:
                how = Resolution.MET
            with transaction.atomic():
                changed = FollowUp.objects.filter(pk=row.pk, stage__in=OPEN_STAGES).update(
                    stage=FollowUpStage.RESOLVED, resolved_at=self.moment, resolution=how
                )
                if changed:
                    self._step(row, Step.RESOLVED, resolution=how)
            self.summary.resolved += changed

    def _open(self, wanted) -> list[_Open]:
        persons = {
            p.pk: p
            for p in Person.objects.filter(pk__in={w[0] for w in wanted}).select_related(
                "user", "office", "case_officer"
            )
        }
        existing = {
            (f.person_id, f.period, f.requirement_key): f
            for f in FollowUp.objects.filter(person_id__in=persons.keys(), period__in=self.opening)
        }
        opened: list[_Open] = []
        for person_id, period, m, result in wanted:
            text = describe_missing(m.kind, m.minutes_short)
            row = existing.get((person_id, period, m.key))
            with transaction.atomic():
                if row is None:
                    row, created = FollowUp.objects.get_or_create(
                        person_id=person_id,
                        period=period,
                        requirement_key=m.key,
                        defaults={"requirement": m.title[:255], "opened_at": self.moment},
                    )
                    if not created:
                        continue  # a concurrent run opened it
                    self._step(row, Step.OPENED, missing=text, status=result.status)
                elif row.stage == FollowUpStage.RESOLVED:
                    # Met once, unmet again (an excuse withdrawn, a record corrected).
                    changed = FollowUp.objects.filter(
                        pk=row.pk, stage=FollowUpStage.RESOLVED
                    ).update(
                        stage=FollowUpStage.REMINDED,
                        opened_at=self.moment,
                        last_reminded_on=None,
                        resolved_at=None,
                        resolution="",
                        officer_task_at=None,
                        officer_due=None,
                        officer_acted_at=None,
                        escalated_at=None,
                    )
                    if not changed:
                        continue
                    row.refresh_from_db()
                    self._step(row, Step.REOPENED, missing=text, status=result.status)
                else:
                    continue
            row.person = persons[person_id]
            self.summary.opened += 1
            opened.append(_Open(row, result, text, m.minutes_short))
        return opened

    # 4. The case officer, then the administrators
    def _officers_for(self, person: Person) -> list[User]:
        officer = person.case_officer
        if officer is not None and officer.is_active:
            return [officer]
        if not hasattr(self, "_office_officers"):
            self._office_officers: dict[int, list[User]] = {}
        if person.office_id not in self._office_officers:
            self._office_officers[person.office_id] = list(
                User.objects.filter(
                    is_active=True, groups__name=Role.OFFICER, office_id=person.office_id
                ).order_by("pk")
            )
        return self._office_officers[person.office_id]

    def _officer_tasks(self, items: list[_Open]) -> None:
        due_rows = [
            item
            for item in items
            if item.follow_up.stage == FollowUpStage.REMINDED
            and timezone.localdate(item.follow_up.opened_at)
            + dt.timedelta(days=self.policy.officer_after_days)
            <= self.today
        ]
        notices: dict[tuple[int, int, dt.date], tuple[User, list[_Open]]] = {}
        due = self.today + dt.timedelta(days=self.policy.administrator_after_days)
        for item in due_rows:
            row = item.follow_up
            officers = self._officers_for(row.person)
            case_officer = row.person.case_officer
            assigned = case_officer if case_officer is not None and case_officer.is_active else None
            with transaction.atomic():
                changed = FollowUp.objects.filter(pk=row.pk, stage=FollowUpStage.REMINDED).update(
                    stage=FollowUpStage.OFFICER,
                    officer=assigned,
                    officer_task_at=self.moment,
                    officer_due=due,
                )
                if not changed:
                    continue
                row.stage, row.officer, row.officer_task_at, row.officer_due = (
                    FollowUpStage.OFFICER,
                    assigned,
                    self.moment,
                    due,
                )
                self._step(
                    row,
                    Step.OFFICER_TASK,
                    missing=item.missing_text,
                    officers=[o.pk for o in officers],
                    due=due.isoformat(),
                )
            self.summary.officer_tasks += 1
            for officer in officers:
                key = (officer.pk, row.person_id, row.period)
                notices.setdefault(key, (officer, []))[1].append(item)
        self._notify_staff(notices, ReminderKind.OFFICER_TASK, "officer")

    def _escalate(self, items: list[_Open]) -> None:
        late = [
            item
            for item in items
            if item.follow_up.stage == FollowUpStage.OFFICER
            and item.follow_up.officer_acted_at is None
            and item.follow_up.officer_due is not None
            and item.follow_up.officer_due < self.today
        ]
        if not late:
            return
        administrators = list(
            User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
            .exclude(office=None)
            .select_related("office")
            .order_by("pk")
        )
        notices: dict[tuple[int, int, dt.date], tuple[User, list[_Open]]] = {}
        for item in late:
            row = item.follow_up
            with transaction.atomic():
                changed = FollowUp.objects.filter(
                    pk=row.pk, stage=FollowUpStage.OFFICER, officer_acted_at=None
                ).update(stage=FollowUpStage.ADMINISTRATOR, escalated_at=self.moment)
                if not changed:
                    continue
                row.stage, row.escalated_at = FollowUpStage.ADMINISTRATOR, self.moment
                path = row.person.office.path
                to = [a for a in administrators if path.startswith(a.office.path)]
                self._step(
                    row,
                    Step.ESCALATED,
                    missing=item.missing_text,
                    administrators=[a.pk for a in to],
                )
            self.summary.escalated += 1
            for admin in to:
                notices.setdefault((admin.pk, row.person_id, row.period), (admin, []))[1].append(
                    item
                )
        self._notify_staff(notices, ReminderKind.ADMINISTRATOR, "admin")

    def _notify_staff(self, notices, kind: str, tag: str) -> None:
        url = reverse("learning_followup_list")
        for (user_pk, person_pk, period), (user, items) in notices.items():
            title, body = render(self.templates[kind], _values(items[0].follow_up.person, items))
            notification = notify(
                user,
                kind=NotificationKind.REMINDER,
                title=title,
                body=body,
                url=url,
                dedupe_key=f"followup:{tag}:{person_pk}:{period:%Y-%m}:{self.today}",
            )
            if notification is not None:
                for item in items:
                    self._step(
                        item.follow_up,
                        f"{tag}_notified",
                        recipient=user_pk,
                        channel=Channel.IN_APP,
                        notification=notification.pk,
                    )

    # 5. The person
    def _remind(self, items: list[_Open]) -> None:
        at_risk: dict[int, list[_Open]] = defaultdict(list)
        missed: dict[int, list[_Open]] = defaultdict(list)
        for item in items:
            row = item.follow_up
            if row.period == self.current and item.result.days_left:
                if row.last_reminded_on != self.today:
                    at_risk[row.person_id].append(item)
            elif row.period == self.previous:
                missed[row.person_id].append(item)
        if missed:
            told = set(
                FollowUpStep.objects.filter(
                    follow_up__in=[i.follow_up.pk for group in missed.values() for i in group],
                    kind=Step.MISSED_REMINDER,
                ).values_list("follow_up_id", flat=True)
            )
            missed = {
                pk: [i for i in group if i.follow_up.pk not in told] for pk, group in missed.items()
            }
        for group in at_risk.values():
            self._remind_person(group, ReminderKind.LEARNER_AT_RISK, Step.REMINDED, "due")
        for group in missed.values():
            if group:
                self._remind_person(
                    group, ReminderKind.LEARNER_MISSED, Step.MISSED_REMINDER, "missed"
                )

    def _remind_person(self, items: list[_Open], kind: str, step: str, tag: str) -> None:
        person = items[0].follow_up.person
        period = items[0].follow_up.period
        title, body = render(self.templates[kind], _values(person, items))
        key = f"followup:{tag}:{person.pk}:{period:%Y-%m}:{self.today}"
        notification = notify(
            person.user,
            kind=NotificationKind.REMINDER,
            title=title,
            body=body,
            url="/",
            dedupe_key=key,
        )
        # Messages leave the building outside any transaction (a slow gateway must not hold
        # the database), and each attempt is in the delivery log.
        deliveries = {}
        for channel in (Channel.SMS, Channel.EMAIL):
            delivery = do_deliver(
                person.user, channel=channel, subject=title, body=body, dedupe_key=key
            )
            if delivery is not None:
                deliveries[channel] = delivery
                self.summary.deliveries += delivery.status == "sent"
        if notification is None and not deliveries:
            return  # told already today
        channels = {Channel.IN_APP: notification.pk} if notification is not None else {}
        channels.update({channel: d.pk for channel, d in deliveries.items()})
        with transaction.atomic():
            for item in items:
                self._step(
                    item.follow_up,
                    step,
                    missing=item.missing_text,
                    channels=channels,
                    statuses={channel: d.status for channel, d in deliveries.items()},
                )
            FollowUp.objects.filter(pk__in=[i.follow_up.pk for i in items]).update(
                last_reminded_on=self.today
            )
        self.summary.reminded += 1

    def _step(self, row: FollowUp, kind: str, actor: User | None = None, **detail) -> None:
        FollowUpStep.objects.create(
            follow_up=row, kind=kind, at=self.moment, actor=actor, detail=detail
        )


# --- The officer's side ------------------------------------------------------------------------


def follow_ups_visible_to(user) -> models.QuerySet[FollowUp]:
    """Follow-ups of the persons ``user`` may see (``Person.objects.visible_to``), for officers
    and administrators only; nobody else sees any."""
    if not can_follow_up(user):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(person__in=Person.objects.visible_to(user))


def can_follow_up(user) -> bool:
    """Officers and administrators (and superusers) work the follow-up list."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(roles_of(user) & {Role.OFFICER, Role.ADMINISTRATOR})


def check_action(action: str, note: str) -> str:
    """The note stripped; ``ValidationError`` for an unknown action, an "other" without a
    note, or a note over ``NOTE_MAX`` characters."""
    note = (note or "").strip()
    if action not in OfficerAction.values:
        raise ValidationError(_("Choose what you did."))
    if action == OfficerAction.OTHER and not note:
        raise ValidationError(_("Please say in the note what you did."))
    if len(note) > NOTE_MAX:
        raise ValidationError(_("The note is longer than %(max)s characters.") % {"max": NOTE_MAX})
    if "\x00" in note:
        raise ValidationError(_("The note contains characters that cannot be stored."))
    return note


def do_record_action(follow_up: FollowUp, user: User, *, action: str, note: str = "") -> FollowUp:
    """The officer (or an administrator) records what they did: the task counts as acted on
    and the administrators are not told. A resolved follow-up refuses (``ValidationError``)."""
    note = check_action(action, note)
    now = timezone.now()
    with transaction.atomic():
        row = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if row.stage == FollowUpStage.RESOLVED:
            raise ValidationError(_("This follow-up is already resolved; nothing more to do."))
        label = OfficerAction(action).label
        line = f"{timezone.localtime(now):%Y-%m-%d %H:%M} {label}" + (
            f"{pgettext('label separator', ': ')}{note}" if note else ""
        )
        row.officer_note = f"{row.officer_note}\n{line}".strip()[:5000]
        row.officer_acted_at = now
        fields = ["officer_note", "officer_acted_at"]
        if row.officer_id is None:
            row.officer = user
            fields.append("officer")
        row.save(update_fields=fields)
        FollowUpStep.objects.create(
            follow_up=row,
            kind=Step.OFFICER_ACTION,
            at=now,
            actor=user,
            detail={"action": action, "note": note},
        )
    return row
