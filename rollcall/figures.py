"""Per office and month: the video roll-calls planned, done, answered in time, missed,
excused and not possible (the dashboards' and reports' figures, issue #21 item 4).

Rules:

1. *Planned* = spot checks drawn for the month (by their planned time) + calls started in the
   month that no spot check drew (a started spot check is counted once, as drawn).
2. *Done* = answered (in time or late); *in time*, *missed*, *excused* and *not possible* are
   the targets' results. A call still ringing, or a drawn check not yet rung, is planned only.
3. A month is the calendar month in the display zone (``TIME_ZONE``), by the time the call
   rang (the check's planned time for a check not yet rung).
4. An office's figures are those of the persons of the office and of the offices below it,
   counted only for persons the viewer may see (``Person.objects.visible_to``).

``office_month_counts`` reads them in two grouped queries (and the viewer's scope, once)
whatever the number of persons, offices or months; ``assemble`` is the pure part (subtree
sums, zero months).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from participation.office_figures import FigureTable
from people.models import Office, Person
from rollcall.models import Result, RollCallTarget, SpotCheck

KEY = "rollcall"


@dataclass
class MonthFigures:
    planned: int = 0
    done: int = 0
    in_time: int = 0
    missed: int = 0
    excused: int = 0
    not_possible: int = 0

    def add(self, other: MonthFigures) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclass(frozen=True)
class CountRow:
    """One grouped row of the database: the persons of one office, one month."""

    path: str
    month: dt.date
    figures: MonthFigures


def assemble(
    rows: Iterable[CountRow], offices: Sequence[Office], months: Sequence[dt.date]
) -> dict[int, dict[dt.date, MonthFigures]]:
    """Pure: each office's figures per month over its subtree (rule 4), 0 for a month with
    nothing, months outside ``months`` ignored."""
    wanted = set(months)
    out = {office.pk: {month: MonthFigures() for month in months} for office in offices}
    for row in rows:
        if row.month not in wanted:
            continue
        for office in offices:
            if row.path.startswith(office.path):
                out[office.pk][row.month].add(row.figures)
    return out


def _month(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def office_month_counts(
    user, offices: Sequence[Office], months: Sequence[dt.date]
) -> dict[int, dict[dt.date, MonthFigures]]:
    """The figures of ``offices`` (each with its subtree) for ``months`` (first days), as the
    viewer ``user`` may see them: two grouped queries and the viewer's scope."""
    if not offices or not months:
        return assemble([], offices, months)
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(dt.datetime.combine(min(months), dt.time()), zone)
    last = max(months)
    end_date = dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)
    end = timezone.make_aware(dt.datetime.combine(end_date, dt.time()), zone)
    subtree = Q()
    for office in offices:
        subtree |= Q(person__office__path__startswith=office.path)
    # The scope as a per-row check, not a list of persons: so the months' index (``at``,
    # ``rung_at``) leads, not a walk over every person of a bureau (SQLite).
    visible = Person.objects.visible_to(user)
    in_scope = Exists(visible.filter(pk=OuterRef("person_id")))
    rows: list[CountRow] = []
    drawn = (
        SpotCheck.objects.filter(subtree, in_scope, at__gte=start, at__lt=end)
        .annotate(month=TruncMonth("at", tzinfo=zone))
        .values("person__office__path", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in drawn:
        rows.append(
            CountRow(
                row["person__office__path"], _month(row["month"]), MonthFigures(planned=row["n"])
            )
        )
    answered = [Result.IN_TIME, Result.LATE]
    targets = (
        RollCallTarget.objects.filter(subtree, in_scope, rung_at__gte=start, rung_at__lt=end)
        .annotate(
            month=TruncMonth("rung_at", tzinfo=zone),
            drawn=Exists(SpotCheck.objects.filter(target=OuterRef("pk"))),
        )
        .values("person__office__path", "month")
        .annotate(
            started=Count("pk", filter=Q(drawn=False)),
            done=Count("pk", filter=Q(result__in=answered)),
            in_time=Count("pk", filter=Q(result=Result.IN_TIME)),
            missed=Count("pk", filter=Q(result=Result.MISSED)),
            excused=Count("pk", filter=Q(result=Result.EXCUSED)),
            not_possible=Count("pk", filter=Q(result=Result.NOT_POSSIBLE)),
        )
        .order_by()
    )
    for row in targets:
        rows.append(
            CountRow(
                row["person__office__path"],
                _month(row["month"]),
                MonthFigures(
                    planned=row["started"],
                    done=row["done"],
                    in_time=row["in_time"],
                    missed=row["missed"],
                    excused=row["excused"],
                    not_possible=row["not_possible"],
                ),
            )
        )
    return assemble(rows, offices, months)


COLUMNS = ("planned", "done", "in_time", "missed", "excused", "not_possible")


def figure_tables(
    user, offices: Sequence[Office], months: Sequence[dt.date]
) -> dict[int, FigureTable]:
    """The ``participation.office_figures`` source: one table per office, a row per month."""
    counts = office_month_counts(user, offices, months)
    columns = [
        _("Month"),
        pgettext("roll-call figures", "Planned"),
        pgettext("roll-call figures", "Done"),
        _("Answered in time"),
        _("Not answered"),
        _("Excused"),
        _("Not possible"),
    ]
    out: dict[int, FigureTable] = {}
    by_month: dict[int, list[list[object]]] = defaultdict(list)
    for office in offices:
        for month in sorted(months):
            figures = counts[office.pk][month]
            by_month[office.pk].append([f"{month:%Y-%m}", *(getattr(figures, c) for c in COLUMNS)])
        out[office.pk] = FigureTable(
            key=KEY,
            title=_("Video roll-calls"),
            columns=columns,
            rows=by_month[office.pk],
            empty_text=_("No video roll-calls were planned or made in these months."),
        )
    return out
