"""The admin home's participation panels, shown by role (``wagtail_hooks.py``).

officer → today's tasks (follow-ups with the officer, leave requests to decide, activation
codes to hand out); administrator → the bureau's participation this month and the
follow-ups that went past their officer. Each panel reads a fixed number of queries
whatever the number of persons: a list is cut at ``HOME_ROWS`` and counted only when full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone
from wagtail.admin.ui.components import Component

from lib.months import month_start
from participation import rollups
from participation.absences import handled_by
from participation.followup import follow_ups_visible_to
from participation.models import AbsenceStatus, FollowUp, FollowUpStage
from participation.requirements import requirement_labels
from people.activation import awaiting_activation_code
from people.models import Person

HOME_ROWS = 8


@dataclass(frozen=True)
class Cut:
    """The first ``HOME_ROWS`` of a list and how many there are in all."""

    rows: list[Any]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def cut(queryset: QuerySet) -> Cut:
    """One query, two when the list is full (then it is counted)."""
    rows = list(queryset[:HOME_ROWS])
    total = queryset.count() if len(rows) == HOME_ROWS else len(rows)
    return Cut(rows=rows, total=total)


def _label_follow_ups(rows: list[FollowUp], today: dt.date) -> None:
    titles = requirement_labels(row.requirement_key for row in rows if not row.requirement)
    for row in rows:
        row.requirement_label = row.requirement or titles[row.requirement_key]
        row.overdue = row.officer_due is not None and row.officer_due < today
        row.due_today = row.officer_due == today


@dataclass(frozen=True)
class PersonTasks:
    """One person's follow-up tasks, due soonest first."""

    person: Person
    tasks: list[FollowUp]

    @property
    def due(self) -> dt.date | None:
        return self.tasks[0].officer_due

    @property
    def overdue(self) -> bool:
        return self.tasks[0].overdue

    @property
    def due_today(self) -> bool:
        return self.tasks[0].due_today


def follow_up_tasks(follow_ups: QuerySet[FollowUp], today: dt.date) -> Cut:
    """``follow_ups`` grouped by person, the persons whose earliest task is due soonest first:
    the first ``HOME_ROWS`` persons with all their tasks (three queries, four when there are
    more persons, and one per requirement kind for the titles)."""
    persons = (
        follow_ups.order_by()
        .values("person")
        .annotate(due=Min("officer_due"), since=Min("opened_at"))
        .order_by(F("due").asc(nulls_last=True), "since", "person")
    )
    ids = [row["person"] for row in persons[:HOME_ROWS]]
    total = persons.count() if len(ids) == HOME_ROWS else len(ids)
    tasks = list(
        follow_ups.filter(person__in=ids)
        .select_related("person")
        .order_by(F("officer_due").asc(nulls_last=True), "opened_at", "pk")
    )
    _label_follow_ups(tasks, today)
    by_person: dict[int, list[FollowUp]] = {pk: [] for pk in ids}
    for task in tasks:
        by_person[task.person_id].append(task)
    groups = [PersonTasks(person=rows[0].person, tasks=rows) for rows in by_person.values() if rows]
    return Cut(rows=groups, total=total)


@dataclass(frozen=True)
class OfficerToday:
    follow_ups: Cut  # of PersonTasks
    absences: Cut
    activations: Cut

    @property
    def nothing(self) -> bool:
        return not (self.follow_ups.total or self.absences.total or self.activations.total)


def officer_today(user, today: dt.date) -> OfficerToday:
    """What an officer should do today, in their scope: follow-up tasks given to the officers
    (due soonest first), leave requests waiting for a decision (oldest first), and persons who
    still need an activation code. At most ten queries, and one per requirement kind."""
    follow_ups = follow_up_tasks(
        follow_ups_visible_to(user).filter(stage=FollowUpStage.OFFICER), today
    )
    absences = cut(
        handled_by(user)
        .filter(status=AbsenceStatus.PENDING)
        .select_related("person")
        .order_by("filed_at", "pk")
    )
    titles = requirement_labels(row.requirement_key for row in absences.rows if not row.requirement)
    for row in absences.rows:
        row.requirement_label = row.requirement or titles[row.requirement_key]
    return OfficerToday(
        follow_ups=follow_ups,
        absences=absences,
        activations=cut(awaiting_activation_code(user).select_related("office")),
    )


class OfficerTodayPanel(Component):
    name = "participation_officer_today"
    template_name = "participation/home/officer_today.html"
    order = 10

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"today": officer_today(self.user, timezone.localdate())}


# --- Administrators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BureauMonth:
    period: dt.date
    overall: rollups.Figures
    offices: list[tuple[rollups.OfficeFigures, rollups.Figures]]  # (office, with its subtree)
    computed_at: dt.datetime | None


def bureau_month(user, today: dt.date) -> BureauMonth:
    """This month's figures of the offices the user may see that hold persons, lowest rate
    first, and the sum over all of them (from the rollups: a fixed number of queries)."""
    period = month_start(today)
    rows = rollups.office_month_rows(user, period)
    totals = rollups.subtree_totals(rows)
    overall = rollups.Figures()
    for row in rows:
        overall.add(row)
    # The offices that hold persons themselves: the bureau above them would repeat the sum.
    offices = [(row, totals[row.office_id]) for row in rows if row.persons]
    offices.sort(key=lambda pair: (pair[1].rate if pair[1].rate is not None else 101, pair[0].path))
    computed = [row.computed_at for row in rows if row.computed_at]
    return BureauMonth(
        period=period,
        overall=overall,
        offices=offices[:HOME_ROWS],
        computed_at=min(computed) if computed else None,
    )


class BureauParticipationPanel(Component):
    name = "participation_bureau_month"
    template_name = "participation/home/bureau_month.html"
    order = 10

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"month": bureau_month(self.user, timezone.localdate())}


def overdue_follow_ups(user, today: dt.date) -> Cut:
    """Follow-ups escalated to the administrator, or with an officer past the day they were to
    act by; oldest first. At most five queries."""
    rows = cut(
        follow_ups_visible_to(user)
        .filter(
            Q(stage=FollowUpStage.ADMINISTRATOR)
            | Q(stage=FollowUpStage.OFFICER, officer_due__lt=today)
        )
        .select_related("person", "officer")
        .order_by("opened_at", "pk")
    )
    _label_follow_ups(rows.rows, today)
    return rows


class OverdueFollowUpsPanel(Component):
    name = "participation_overdue_follow_ups"
    template_name = "participation/home/overdue_follow_ups.html"
    order = 30

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"follow_ups": overdue_follow_ups(self.user, timezone.localdate())}
