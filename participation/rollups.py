"""Rollups of the participation ledger: ``PersonMonth`` (one row per person and month, as
``participation.requirements.month_results`` decides it) and ``OfficeMonth`` (counts by office,
category and month), so dashboards and reports read small rows instead of the ledger.

Writing: ``refresh_month(period, persons=None)`` computes person-months with
``participation.month_sql`` (set-based SQL: a whole month in two queries, or chunk by chunk for a
list of persons; ``month_results`` in Python where a requirement kind has no SQL form), writes
them in chunks of ``CHUNK`` persons (one short transaction each, so heartbeats are never
blocked for long), then the office-months of the offices touched with one SQL aggregate.

Freshness (the heartbeat never waits for a rollup): ``refresh_rollups`` (cron, every few
minutes) refreshes the *dirty* persons of this month and last, i.e. those with a ledger row
written since their person-month was computed (``ParticipationRecord.updated_at``, which every
writer sets, the heartbeat's ``update()`` included), whose profile changed
(``Person.updated_at``), who have no person-month yet, or whom a writer marked with
``mark_dirty`` (deletions, requirement changes such as new enrollments or lecture audiences).
``refresh_rollups --all`` (nightly) recomputes every month that has rollups, which also picks
up changes no timestamp shows (a quota edited by an administrator). A month that has ended is
recomputed in full once after its end, so "at risk" becomes "missed" on time. Dashboards show
when their figures were computed.

Reading: ``office_month_rows`` and ``person_month_rows`` apply the user's scope (officer: own
office subtree; administrator: the bureau) in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from lib.months import month_start
from participation import month_sql
from participation.models import MonthStatus, OfficeMonth, ParticipationRecord, PersonMonth
from participation.requirements import MonthResult, in_supervision, month_results
from people.models import Office, Person
from people.roles import Role, roles_of

CHUNK = 2000
# ``computed_at`` of a person-month marked dirty: older than any ledger write.
STALE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
STATUS_FIELDS = ("met", "excused", "at_risk", "missed")


class FutureMonth(ValueError):
    """A month that has not started yet has no figures."""


# --- Writing --------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    period: dt.date
    persons: int = 0
    removed: int = 0
    offices: int = 0


def _missing_json(result: MonthResult) -> list[dict]:
    return [
        {
            "key": m.key,
            "kind": m.kind,
            "title": m.title,
            "due": m.due.isoformat(),
            "minutes_short": m.minutes_short,
        }
        for m in result.missing
    ]


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


PERSON_MONTH_FIELDS = [
    "office",
    "category",
    "status",
    "required",
    "met",
    "excused",
    "missing",
    "study_minutes",
    "quota_minutes",
    "computed_at",
]


def refresh_month(
    period: dt.date,
    persons: QuerySet[Person] | Iterable[int] | None = None,
    today: dt.date | None = None,
    *,
    use_sql: bool | None = None,
) -> RefreshResult:
    """Recompute the person-months of ``persons`` (default: everyone) for ``period``'s month,
    then the office-months of their offices. Idempotent: refreshing twice gives the same rows.

    ``use_sql`` (default: whenever every requirement kind has one) computes the months with
    ``participation.month_sql`` (a few set-based queries per chunk) instead of ``month_results``
    (``month_status`` per person in Python); both give the same rows.

    Raises ``FutureMonth`` for a month that has not started."""
    today = today or timezone.localdate()
    period = month_start(period)
    if period > month_start(today):
        raise FutureMonth(period)
    if use_sql is None:
        use_sql = month_sql.available()
    if persons is None:
        scope = Person.objects.all()
    elif isinstance(persons, QuerySet):
        scope = persons
    else:
        scope = Person.objects.filter(pk__in=list(persons))
    result = RefreshResult(period)
    wanted = list(scope.order_by("pk").values_list("pk", flat=True))
    touched_offices: set[int] = set()
    # Everyone at once in SQL is cheaper than chunk by chunk; the writes stay in chunks.
    everyone = (
        {row.person_id: row for row in month_sql.month_rows(scope, period, today)}
        if use_sql and persons is None
        else None
    )
    for chunk in _chunks(wanted, CHUNK):
        if everyone is not None:
            computed = [everyone[pk] for pk in chunk if pk in everyone]
        else:
            chunk_persons = Person.objects.filter(pk__in=list(chunk))
            computed = (
                month_sql.month_rows(chunk_persons, period, today)
                if use_sql
                else _python_rows(chunk_persons, period, today)
            )
        now = timezone.now()
        rows = [
            PersonMonth(
                person_id=row.person_id,
                period=period,
                office_id=row.office_id,
                category=row.category,
                status=row.result.status,
                required=row.result.required,
                met=row.result.met,
                excused=row.result.excused,
                missing=_missing_json(row.result),
                study_minutes=row.result.study_minutes,
                quota_minutes=row.result.quota_minutes,
                computed_at=now,
            )
            for row in computed
        ]
        with transaction.atomic():
            gone = PersonMonth.objects.filter(period=period, person_id__in=list(chunk)).exclude(
                person_id__in=[row.person_id for row in rows]
            )
            touched_offices.update(gone.values_list("office_id", flat=True).distinct())
            # The previous office of a person who moved loses them from its counts.
            touched_offices.update(
                PersonMonth.objects.filter(period=period, person_id__in=list(chunk))
                .values_list("office_id", flat=True)
                .distinct()
            )
            result.removed += gone.delete()[0]
            _upsert_person_months(rows)
        touched_offices.update(row.office_id for row in rows)
        result.persons += len(rows)
    full = persons is None
    result.offices = refresh_office_months(period, None if full else touched_offices)
    return result


def _upsert_person_months(rows: list[PersonMonth]) -> None:
    """Insert or update ``rows`` (on person and period): one statement executed for every
    row (``executemany``; PostgreSQL and SQLite ≥ 3.24 both know ON CONFLICT), which costs a
    fraction of compiling the multi-row INSERTs of ``bulk_create(update_conflicts=True)``."""
    if not rows:
        return
    meta = PersonMonth._meta
    fields = [meta.get_field(name) for name in ("person", "period", *PERSON_MONTH_FIELDS)]
    ops = connection.ops
    qn = ops.quote_name
    columns = [qn(f.column) for f in fields]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    # names from the model's metadata; every value is a parameter
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({columns[0]}, {columns[1]}) DO UPDATE SET {updates}"
    )
    # The values as the fields would prepare them, without a field call per value.
    nothing = ops.adapt_json_value([], None)
    values = [
        (
            row.person_id,
            ops.adapt_datefield_value(row.period),
            row.office_id,
            row.category,
            row.status,
            row.required,
            row.met,
            row.excused,
            ops.adapt_json_value(row.missing, None) if row.missing else nothing,
            row.study_minutes,
            row.quota_minutes,
            ops.adapt_datetimefield_value(row.computed_at),
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _python_rows(
    persons: QuerySet[Person], period: dt.date, today: dt.date
) -> list[month_sql.PersonMonthRow]:
    """The reference path: ``month_results`` (``month_status`` per person in Python)."""
    results = month_results(persons, period, today)
    profile = in_supervision(persons, period).order_by().values_list("pk", "office_id", "category")
    return [
        month_sql.PersonMonthRow(pk, office_id, category, results[pk])
        for pk, office_id, category in profile
        if pk in results
    ]


def refresh_office_months(period: dt.date, offices: Iterable[int] | None = None) -> int:
    """Recount ``period``'s office-months (of ``offices``, default all) from the person-months
    with one aggregate query; office-categories left with nobody lose their row."""
    period = month_start(period)
    counts = PersonMonth.objects.filter(period=period)
    stale = OfficeMonth.objects.filter(period=period)
    if offices is not None:
        offices = list(offices)
        counts = counts.filter(office_id__in=offices)
        stale = stale.filter(office_id__in=offices)
    aggregate = (
        counts.order_by()
        .values("office_id", "category")
        .annotate(
            persons=Count("pk"),
            **{s: Count("pk", filter=Q(status=s)) for s in MonthStatus.values},
        )
    )
    now = timezone.now()
    rows = [
        OfficeMonth(
            office_id=row["office_id"],
            period=period,
            category=row["category"],
            persons=row["persons"],
            computed_at=now,
            **{s: row[s] for s in STATUS_FIELDS},
        )
        for row in aggregate
    ]
    keep = {(row.office_id, row.category) for row in rows}
    with transaction.atomic():
        # One delete by primary keys, in batches (an OR of one term per kept row broke
        # SQLite's expression depth limit beyond ~1,000 rows).
        gone = [
            pk
            for pk, office_id, category in stale.values_list("pk", "office_id", "category")
            if (office_id, category) not in keep
        ]
        for batch in _chunks(gone, 500):
            OfficeMonth.objects.filter(pk__in=list(batch)).delete()
        OfficeMonth.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["office", "period", "category"],
            update_fields=["persons", *STATUS_FIELDS, "computed_at"],
        )
    return len(rows)


def mark_dirty(person_ids: Iterable[int], period: dt.date) -> int:
    """Mark person-months for the next ``refresh_rollups`` (one UPDATE, no recomputation):
    for writers whose change leaves no newer ledger row (a deleted entry, a new enrollment)."""
    return PersonMonth.objects.filter(
        person_id__in=list(person_ids), period=month_start(period)
    ).update(computed_at=STALE)


def dirty_persons(period: dt.date) -> list[int]:
    """Persons under supervision in ``period`` whose person-month is missing, marked dirty,
    older than one of their ledger rows of the month, or older than their profile."""
    period = month_start(period)
    computed = PersonMonth.objects.filter(person=OuterRef("pk"), period=period).values(
        "computed_at"
    )[:1]
    newest_entry = (
        ParticipationRecord.objects.filter(person=OuterRef("pk"), period=period)
        .order_by()
        .values("person")
        .annotate(newest=Max("updated_at"))
        .values("newest")
    )
    return list(
        in_supervision(Person.objects.all(), period)
        .annotate(computed=Subquery(computed), newest=Subquery(newest_entry))
        .filter(
            Q(computed=None)
            | Q(computed__lte=STALE)
            | Q(newest__gt=F("computed"))
            | Q(updated_at__gt=F("computed"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def refresh_dirty(period: dt.date, today: dt.date | None = None) -> RefreshResult:
    """Refresh the dirty persons of ``period``; a month that has ended is refreshed in full
    once after its end (its "at risk" persons become "missed")."""
    today = today or timezone.localdate()
    period = month_start(period)
    if period < month_start(today):
        oldest = PersonMonth.objects.filter(period=period, computed_at__gt=STALE).aggregate(
            oldest=Min("computed_at")
        )
        end = next_month(period)
        if oldest["oldest"] is None or timezone.localdate(oldest["oldest"]) < end:
            return refresh_month(period, today=today)
    return refresh_month(period, dirty_persons(period), today=today)


def refresh_recent(today: dt.date | None = None) -> list[RefreshResult]:
    """The frequent refresh (every few minutes): the dirty persons of last month and this."""
    today = today or timezone.localdate()
    this_month = month_start(today)
    return [refresh_dirty(period, today) for period in (previous_month(this_month), this_month)]


def refresh_all(today: dt.date | None = None) -> list[RefreshResult]:
    """The nightly refresh: every month that has rollups, and this one, in full."""
    today = today or timezone.localdate()
    this_month = month_start(today)
    months = set(PersonMonth.objects.values_list("period", flat=True).distinct()) | {this_month}
    return [refresh_month(p, today=today) for p in sorted(months) if p <= this_month]


def next_month(period: dt.date) -> dt.date:
    return month_start(month_start(period) + dt.timedelta(days=32))


def previous_month(period: dt.date) -> dt.date:
    return month_start(month_start(period) - dt.timedelta(days=1))


def last_months(today: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of ``count`` months ending with ``today``'s, oldest first."""
    months = [month_start(today)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months[::-1]


# --- Reading, scoped ------------------------------------------------------------------------


def dashboard_offices(user) -> QuerySet[Office]:
    """The offices whose figures ``user`` may see: an officer's own office subtree, an
    administrator's bureau (their office's subtree); nobody else's."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Office.objects.none()
    if user.is_superuser:
        return Office.objects.all()
    if roles_of(user) & {Role.ADMINISTRATOR, Role.OFFICER} and user.office_id:
        return Office.objects.filter(path__startswith=user.office.path)
    return Office.objects.none()


def can_see_office(user, office: Office) -> bool:
    return dashboard_offices(user).filter(pk=office.pk).exists()


@dataclass
class Figures:
    """Counts of person-months and the participation rate ((met + excused) / persons)."""

    persons: int = 0
    met: int = 0
    excused: int = 0
    at_risk: int = 0
    missed: int = 0

    def add(self, other) -> None:
        self.persons += other.persons
        for name in STATUS_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def complete(self) -> int:
        return self.met + self.excused

    @property
    def rate(self) -> float | None:
        """Percentage with one decimal, None when there is nobody."""
        if not self.persons:
            return None
        return round(self.complete * 100 / self.persons, 1)


@dataclass
class OfficeFigures(Figures):
    office_id: int = 0
    name: str = ""
    path: str = ""
    depth: int = 0
    by_category: dict[str, Figures] = field(default_factory=dict)
    computed_at: dt.datetime | None = None


def _office_figures(offices: QuerySet[Office]) -> dict[int, OfficeFigures]:
    return {
        o["pk"]: OfficeFigures(office_id=o["pk"], name=o["name"], path=o["path"], depth=o["depth"])
        for o in offices.values("pk", "name", "path", "depth")
    }


def _add_counts(out: dict[int, OfficeFigures], row: dict) -> None:
    figures = out[row["office_id"]]
    category = Figures(persons=row["persons"], **{s: row[s] for s in STATUS_FIELDS})
    figures.by_category[row["category"]] = category
    figures.add(category)


def office_month_rows(user, period: dt.date) -> list[OfficeFigures]:
    """``period``'s figures per office the user may see (persons of the office itself, by
    category), in tree order; two queries whatever the number of offices."""
    period = month_start(period)
    offices = dashboard_offices(user)
    out = _office_figures(offices)
    if not out:
        return []
    for row in OfficeMonth.objects.filter(period=period, office__in=offices.values("pk")).values(
        "office_id", "category", "persons", "computed_at", *STATUS_FIELDS
    ):
        _add_counts(out, row)
        figures = out[row["office_id"]]
        if figures.computed_at is None or row["computed_at"] < figures.computed_at:
            figures.computed_at = row["computed_at"]
    return sorted(out.values(), key=lambda f: f.path)


def office_month_rows_from_ledger(
    user, period: dt.date, office: Office | None = None, today: dt.date | None = None
) -> list[OfficeFigures]:
    """``office_month_rows`` (of ``office``'s subtree, default every office the user may see)
    computed straight from the ledger with ``participation.month_sql`` instead of the rollups: the
    same figures, without ``computed_at``. Four queries (offices, quotas, the month's
    lectures, one aggregate) whatever the number of offices and persons."""
    period = month_start(period)
    offices = dashboard_offices(user)
    if office is not None:
        offices = offices.filter(path__startswith=office.path)
    out = _office_figures(offices)
    if not out:
        return []
    persons = Person.objects.filter(office__in=list(out))
    for row in month_sql.office_counts(persons, period, today):
        _add_counts(out, row)
    return sorted(out.values(), key=lambda f: f.path)


def subtree_totals(rows: Sequence[OfficeFigures]) -> dict[int, Figures]:
    """Each office's figures including every office below it (rows in tree order)."""
    # Each row adds to itself and its listed ancestors, whose paths are its path's prefixes
    # at whole steps of the tree: linear in the rows, not quadratic.
    owner = {row.path: row.office_id for row in rows}
    totals = {row.office_id: Figures() for row in rows}
    step = Office.steplen
    for row in rows:
        for end in range(step, len(row.path) + 1, step):
            ancestor = owner.get(row.path[:end])
            if ancestor is not None:
                totals[ancestor].add(row)
    return totals


def person_month_rows(
    user, office: Office, period: dt.date, status: str | None = None
) -> QuerySet[PersonMonth]:
    """Person-months of ``office``'s subtree for ``period`` (optionally of one status), with
    the person loaded; none if the user may not see the office. One query when evaluated."""
    period = month_start(period)
    if not can_see_office(user, office):
        return PersonMonth.objects.none()
    rows = PersonMonth.objects.filter(period=period, office__path__startswith=office.path)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("person", "office").order_by("status", "person__case_number")


def at_risk_rows(user, period: dt.date) -> QuerySet[PersonMonth]:
    """The month's person-months not yet complete (at risk or missed) of the persons the user
    may see (``Person.objects.visible_to``), most urgent first."""
    return (
        PersonMonth.objects.filter(
            period=month_start(period),
            status__in=[MonthStatus.AT_RISK, MonthStatus.MISSED],
            person__in=Person.objects.visible_to(user).values("pk"),
        )
        .select_related("person", "office")
        .order_by("-status", "person__case_number")
    )


def trend(user, periods: Sequence[dt.date], office: Office | None = None) -> list[Figures]:
    """Figures of the user's offices (or ``office``'s subtree) per month of ``periods``: one
    aggregate query."""
    offices = dashboard_offices(user)
    if office is not None:
        offices = offices.filter(path__startswith=office.path)
    found = {
        row["period"]: Figures(**{k: row[k] or 0 for k in ("persons", *STATUS_FIELDS)})
        for row in OfficeMonth.objects.filter(
            period__in=list(periods), office__in=offices.values("pk")
        )
        .order_by()
        .values("period")
        .annotate(persons=Sum("persons"), **{s: Sum(s) for s in STATUS_FIELDS})
    }
    return [found.get(p, Figures()) for p in periods]


def heatmap(user, periods: Sequence[dt.date], office: Office | None = None):
    """Rows of (office name, [Figures per month]) for the offices directly under ``office``
    (default: the user's top office), each including its subtree: two queries."""
    offices = dashboard_offices(user)
    if office is not None:
        offices = offices.filter(path__startswith=office.path)
    listed = list(offices.values("pk", "name", "path", "depth"))
    if not listed:
        return []
    top = min(o["depth"] for o in listed)
    # The top office's children, or the top office itself when it has none.
    level = [o for o in listed if o["depth"] == top + 1] or [o for o in listed if o["depth"] == top]
    grid = {o["path"]: {p: Figures() for p in periods} for o in level}
    # Summed per office id (no join for the path): each office's row goes to the cell of
    # its ancestor on the level, found by path prefix (one depth, one path length).
    width = len(level[0]["path"])
    cell_of = {o["pk"]: grid.get(o["path"][:width]) for o in listed}
    counts = (
        OfficeMonth.objects.filter(period__in=list(periods), office__in=list(cell_of))
        .order_by()
        .values("office_id", "period")
        .annotate(persons=Sum("persons"), **{s: Sum(s) for s in STATUS_FIELDS})
    )
    for row in counts:
        cells = cell_of.get(row["office_id"])
        if cells is not None:
            cells[row["period"]].add(
                Figures(**{k: row[k] or 0 for k in ("persons", *STATUS_FIELDS)})
            )
    return [(o["name"], [grid[o["path"]][p] for p in periods]) for o in level]
