"""Automatic questionnaire schedules: rules → dates → assignments.

Dates (pure, no database): ``occurrences`` and ``due_occurrences``.
Writing: ``do_apply_schedules(today)``, run daily by ``apply_assessment_schedules``.

An *occurrence* is one window in which a person should answer: it opens on ``opens`` and is
due on ``due``. A rule is applied on a day inside the window, and an assignment is made once
per (person, questionnaire, reason, due date): running the job twice, or again the next day,
makes nothing new. Windows the job did not see (it was not run for the whole window) are not
caught up later: a late intake screen is no longer an intake screen; the next periodic one
comes on time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_noop

from assessments.models import (
    OPEN_STATUSES,
    Assignment,
    InstrumentVersion,
    ScheduleRule,
    ScheduleTrigger,
)
from assessments.taking import AssessmentError, do_assign
from lib.months import add_months
from notifications.models import Notification, NotificationKind
from notifications.services import notify
from people.models import Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Occurrence:
    trigger: str
    opens: dt.date
    due: dt.date


@dataclass(frozen=True)
class RuleSpec:
    """The part of a ``ScheduleRule`` the date arithmetic needs."""

    trigger: str
    window_days: int
    interval_months: int | None = None


def occurrences(rules: Iterable[RuleSpec], start: dt.date, end: dt.date) -> list[Occurrence]:
    """Every window the rules of ONE questionnaire give a supervision from ``start`` to ``end``.

    Periodic windows count from ``start`` (never from the previous window, so dates do not
    drift at month ends) and are skipped when they open inside the intake or exit window,
    which already covers them. No window reaches past ``end``."""
    if end < start:
        return []
    rules = list(rules)
    intake = [r for r in rules if r.trigger == ScheduleTrigger.INTAKE]
    exit_ = [r for r in rules if r.trigger == ScheduleTrigger.EXIT]
    found: list[Occurrence] = []
    for rule in intake:
        found.append(
            Occurrence(rule.trigger, start, min(start + dt.timedelta(days=rule.window_days), end))
        )
    exit_windows = [
        Occurrence(rule.trigger, max(start, end - dt.timedelta(days=rule.window_days)), end)
        for rule in exit_
    ]
    covered = [(o.opens, o.due) for o in (*found, *exit_windows)]
    for rule in rules:
        if rule.trigger != ScheduleTrigger.PERIODIC or not rule.interval_months:
            continue
        k = 1
        while (opens := add_months(start, k * rule.interval_months)) < end:
            if not any(low <= opens <= high for low, high in covered):
                due = min(opens + dt.timedelta(days=rule.window_days), end)
                found.append(Occurrence(rule.trigger, opens, due))
            k += 1
    found.extend(exit_windows)
    return sorted(found, key=occurrence_order)


TRIGGER_ORDER = {ScheduleTrigger.INTAKE: 0, ScheduleTrigger.PERIODIC: 1, ScheduleTrigger.EXIT: 2}


def occurrence_order(occurrence: Occurrence) -> tuple:
    return (occurrence.opens, occurrence.due, TRIGGER_ORDER[occurrence.trigger])


def due_occurrences(
    rules: Iterable[RuleSpec], start: dt.date, end: dt.date, today: dt.date
) -> list[Occurrence]:
    """The windows open on ``today`` (``opens <= today <= due``)."""
    return [o for o in occurrences(rules, start, end) if o.opens <= today <= o.due]


# --- Writing -----------------------------------------------------------------------------------


@dataclass
class ScheduleReport:
    created: int = 0
    already_assigned: int = 0
    still_open: int = 0
    opened: int = 0  # planned retests that opened and whose person was told
    unknown_instruments: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        text = (
            f"{self.created} assignment(s) created, {self.already_assigned} already assigned, "
            f"{self.still_open} skipped (the same questionnaire is still open), "
            f"{self.opened} planned retest(s) opened"
        )
        if self.unknown_instruments:
            text += f"; not loaded: {', '.join(sorted(self.unknown_instruments))}"
        return text


def _rules_by_instrument() -> dict[str, list[RuleSpec]]:
    grouped: dict[str, list[RuleSpec]] = {}
    for rule in ScheduleRule.objects.active().order_by("instrument_slug", "trigger"):
        grouped.setdefault(rule.instrument_slug, []).append(
            RuleSpec(rule.trigger, rule.window_days, rule.interval_months)
        )
    return grouped


def scheduled_persons(today: dt.date):
    """Persons the schedule applies to on ``today``: under supervision on that day, with a
    counselor to review the result, and an account that can sign in."""
    return (
        Person.objects.active()
        .filter(
            supervision_start__lte=today,
            supervision_end__gte=today,
            caseloads__isnull=False,
            user__is_active=True,
        )
        .distinct()
        .select_related("user")
        .order_by("pk")
    )


def do_apply_schedules(today: dt.date) -> ScheduleReport:
    """Create the assignments the active rules call for on ``today``; idempotent.

    An occurrence is assigned once per (person, questionnaire, reason, due date) whatever
    became of that assignment (answered, cancelled), and not while the same questionnaire is
    still open for the person. Each new assignment notifies the person."""
    report = ScheduleReport()
    report.opened = do_notify_opened(today)
    rules = _rules_by_instrument()
    if not rules:
        return report
    loaded = set(
        InstrumentVersion.objects.published()
        .filter(instrument__slug__in=list(rules))
        .values_list("instrument__slug", flat=True)
    )
    report.unknown_instruments = set(rules) - loaded
    rules = {slug: specs for slug, specs in rules.items() if slug in loaded}
    persons = list(scheduled_persons(today))
    ids = [p.pk for p in persons]
    made: set[tuple[int, str, str, dt.date | None]] = set()
    open_now: set[tuple[int, str]] = set()
    for person_id, slug, reason, due, status in Assignment.objects.filter(
        person_id__in=ids, instrument_version__instrument__slug__in=list(rules)
    ).values_list("person_id", "instrument_version__instrument__slug", "reason", "due", "status"):
        made.add((person_id, slug, reason, due))
        if status in OPEN_STATUSES:
            open_now.add((person_id, slug))
    for person in persons:
        for slug, specs in rules.items():
            for occurrence in due_occurrences(
                specs, person.supervision_start, person.supervision_end, today
            ):
                key = (person.pk, slug, occurrence.trigger, occurrence.due)
                if key in made:
                    report.already_assigned += 1
                    continue
                if (person.pk, slug) in open_now:
                    report.still_open += 1
                    continue
                try:
                    assignment = do_assign(
                        slug, person, None, reason=occurrence.trigger, due=occurrence.due
                    )
                except AssessmentError:  # assigned meanwhile by a counselor or another run
                    report.still_open += 1
                    continue
                made.add(key)
                open_now.add((person.pk, slug))
                report.created += 1
                _notify_learner(person, assignment)
    if report.unknown_instruments:
        log.warning(
            "schedule rules name questionnaires that are not loaded: %s",
            ", ".join(sorted(report.unknown_instruments)),
        )
    return report


def do_notify_opened(today: dt.date) -> int:
    """Tell each person whose planned questionnaire (``opens_on``, a retest "in N days") has
    opened by ``today`` and is still open; once per assignment, whenever the job runs (a day
    the job missed is caught up the next). Returns how many were told now."""
    told = 0
    opened = (
        Assignment.objects.open()
        .filter(opens_on__isnull=False, opens_on__lte=today, person__user__is_active=True)
        .select_related("person__user")
        .order_by("pk")
    )
    for assignment in opened:
        told += _notify_learner(assignment.person, assignment) is not None
    return told


def _notify_learner(person: Person, assignment: Assignment) -> Notification | None:
    """The same message, and the same once-only key, as for an assignment the schedule makes:
    whichever way the questionnaire opened, its person hears of it once."""
    if assignment.due is None:
        body = gettext_noop(
            "It takes a few minutes; there are no right or wrong answers, and your counselor "
            "will go through it with you."
        )
        params = {}
    else:
        body = gettext_noop(
            "Please answer it by %(due)s. It takes a few minutes; there are no right or "
            "wrong answers, and your counselor will go through it with you."
        )
        params = {"due": assignment.due.strftime("%Y-%m-%d")}
    return notify(
        person.user,
        kind=NotificationKind.ASSIGNMENT,
        title=gettext_noop("A short questionnaire is waiting for you"),
        body=body,
        url=reverse("assessments_take", args=[assignment.pk]),
        dedupe_key=f"assessments:assignment:{assignment.pk}",
        params=params,
    )
