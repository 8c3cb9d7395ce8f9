"""``month_status`` for many persons at once, in set-based SQL (PostgreSQL and SQLite).

The same rule as ``participation.requirements.month_status``, written as one statement of common
table expressions: the persons under supervision with their prorated quota (``p``); every
requirement row the providers give (``r0``: ``RequirementRows`` of ``ROW_PROVIDERS``), the
month's ledger rows and the earlier completions of the courses due, all in one list
(``facts``); that list grouped per person and requirement key (``rk``: required? completed?
excused? study minutes), then per person (``pk``), then joined to the quota (``pq``). No
correlated subquery per person: UNION ALL and GROUP BY over the month's rows.

* ``month_rows`` gives a ``MonthResult`` per person (two queries plus the providers' own), which
  ``participation.rollups.refresh_month`` stores as person-months;
* ``office_counts`` gives the counts by office, category and status (one query plus the
  providers'), for dashboards computed straight from the ledger.

``available()`` says whether every registered requirement kind has a SQL form; if not, callers
use the Python path (``month_results``). Tests check that both paths give identical results.

One case the SQL does not copy: a ``course``-source ledger row of an earlier month whose key
is not a course's (``record_course_completion`` writes only ``course:<pk>`` keys), which the
Python path would count for a lecture or quota of the same key.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Cast, ExtractDay
from django.utils import timezone

from participation.models import (
    MonthStatus,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    StudyQuota,
)
from participation.requirements import (
    COURSE,
    DEFAULT_QUOTA_HOURS,
    PROVIDERS,
    QUOTA,
    ROW_PROVIDERS,
    STUDY_SOURCES,
    Missing,
    MonthResult,
    RequirementRows,
    days_left,
    in_supervision,
    month_end,
    month_start,
    quota_title,
)
from people.models import Person

OPEN, MET, EXCUSED = 0, 1, 2
STATUSES = (MonthStatus.MET, MonthStatus.EXCUSED, MonthStatus.AT_RISK, MonthStatus.MISSED)


def available() -> bool:
    """Every requirement kind but the quota has a SQL form."""
    return set(PROVIDERS) - {QUOTA} <= set(ROW_PROVIDERS)


def quota_minutes(period: dt.date) -> Case:
    """``quota_requirements``' minutes as an expression on Person: the category's quota in
    proportion to the supervised days of the month, rounded up (0: no quota requirement).
    Whole-number arithmetic only, so both databases divide the same way."""
    quotas = {
        category: int(hours * 60)
        for category, hours in StudyQuota.objects.values_list("category", "hours")
    }
    full = Case(
        *[When(category=c, then=Value(m)) for c, m in quotas.items()],
        default=Value(int(DEFAULT_QUOTA_HOURS * 60)),
        output_field=IntegerField(),
    )
    length = month_end(period).day
    first = Case(
        When(
            supervision_start__gt=period, then=Cast(ExtractDay("supervision_start"), IntegerField())
        ),
        default=Value(1),
        output_field=IntegerField(),
    )
    last = Case(
        When(
            supervision_end__lt=month_end(period),
            then=Cast(ExtractDay("supervision_end"), IntegerField()),
        ),
        default=Value(length),
        output_field=IntegerField(),
    )
    return (full * (last - first + Value(1)) + Value(length - 1)) / Value(length)


def _select(qs: QuerySet, *names: str, join: str = "") -> tuple[str, list]:
    # Columns by their annotation names, whatever order Django compiles them in.
    sql, params = qs.query.sql_with_params()
    columns = ", ".join(f"sub.{connection.ops.quote_name(n)}" for n in names)
    return f"SELECT {columns} FROM ({sql}) sub {join}", list(params)  # noqa: S608 - compiled


@dataclass
class _Statement:
    ctes: str
    params: list
    providers: dict[str, RequirementRows]


def _statement(persons: QuerySet[Person], period: dt.date) -> _Statement:
    qn = connection.ops.quote_name
    people = (
        in_supervision(persons, period)
        .order_by()
        .annotate(
            p_person=F("pk"),
            p_office=F("office_id"),
            p_category=F("category"),
            p_quota=quota_minutes(period),
        )
        .values("p_person", "p_office", "p_category", "p_quota")
    )
    p_sql, params = _select(people, "p_person", "p_office", "p_category", "p_quota")
    providers = {kind: ROW_PROVIDERS[kind](period) for kind in PROVIDERS if kind != QUOTA}
    parts = []
    for rows in providers.values():
        for qs in rows.querysets:
            # only the persons of p; CROSS JOIN keeps SQLite from probing the provider's
            # rows once per person (PostgreSQL plans it as any join)
            sql, more = _select(
                qs,
                "r_person",
                "r_key",
                "r_kind",
                "r_due",
                join='CROSS JOIN p WHERE p.person_id = sub."r_person"',
            )
            parts.append(sql)
            params += more
    if not parts:  # no provider: an empty requirement set of the right shape
        parts.append("SELECT person_id, category, category, NULL FROM p WHERE 1 = 0")
    ledger = qn(ParticipationRecord._meta.db_table)
    study = ", ".join(["%s"] * len(STUDY_SOURCES))
    # names below come from the models' metadata and constants, values are all parameters
    ctes = f"""
WITH p (person_id, office_id, category, quota) AS ({p_sql}),
r0 (person_id, rkey, kind, due) AS ({" UNION ALL ".join(parts)}),
facts (person_id, rkey, kind, due, req, done, exc, study) AS (
  SELECT person_id, rkey, kind, due, 1, 0, 0, 0 FROM r0
  UNION ALL
  SELECT l.person_id, l.requirement_key, NULL, NULL, 0,
    CASE WHEN l.status = %s THEN 1 ELSE 0 END,
    CASE WHEN l.status = %s THEN 1 ELSE 0 END,
    CASE WHEN l.source IN ({study}) THEN l.minutes ELSE 0 END
  FROM {ledger} l JOIN p ON p.person_id = l.person_id
  WHERE l.period = %s
  UNION ALL
  SELECT e.person_id, e.requirement_key, NULL, NULL, 0,
    CASE WHEN e.status = %s THEN 1 ELSE 0 END,
    CASE WHEN e.status = %s THEN 1 ELSE 0 END,
    0
  FROM {ledger} e JOIN r0 ON r0.person_id = e.person_id AND r0.rkey = e.requirement_key
  WHERE r0.kind = %s AND e.source = %s AND e.period < %s
),
rk AS (
  SELECT person_id, rkey, MAX(kind) AS kind, MAX(due) AS due, MAX(req) AS req,
    MAX(done) AS done, MAX(exc) AS exc, SUM(study) AS study
  FROM facts GROUP BY person_id, rkey
),
pk AS (
  SELECT person_id, CAST(SUM(study) AS INTEGER) AS study,
    MAX(CASE WHEN rkey = %s THEN exc ELSE 0 END) AS quota_exc,
    SUM(req) AS required,
    SUM(CASE WHEN req = 1 AND done = 1 THEN 1 ELSE 0 END) AS met,
    SUM(CASE WHEN req = 1 AND done = 0 AND exc = 1 THEN 1 ELSE 0 END) AS excused
  FROM rk GROUP BY person_id
),
pm AS (
  SELECT p.person_id, p.office_id, p.category,
    CASE WHEN p.quota > 0 THEN p.quota ELSE 0 END AS quota,
    COALESCE(pk.study, 0) AS study,
    CASE WHEN p.quota <= 0 THEN NULL
         WHEN COALESCE(pk.study, 0) >= p.quota THEN {MET}
         WHEN COALESCE(pk.quota_exc, 0) = 1 THEN {EXCUSED}
         ELSE {OPEN} END AS quota_state,
    COALESCE(pk.required, 0) AS required,
    COALESCE(pk.met, 0) AS met,
    COALESCE(pk.excused, 0) AS excused
  FROM p LEFT JOIN pk ON pk.person_id = p.person_id
),
pq AS (
  SELECT person_id, office_id, category, quota, study, quota_state,
    required + CASE WHEN quota_state IS NULL THEN 0 ELSE 1 END AS required,
    met + CASE WHEN quota_state = {MET} THEN 1 ELSE 0 END AS met,
    excused + CASE WHEN quota_state = {EXCUSED} THEN 1 ELSE 0 END AS excused
  FROM pm
)"""  # noqa: S608
    day = connection.ops.adapt_datefield_value(period)
    params += [
        ParticipationStatus.COMPLETED,
        ParticipationStatus.EXCUSED,
        *sorted(STUDY_SOURCES),
        day,
        ParticipationStatus.COMPLETED,
        ParticipationStatus.EXCUSED,
        COURSE,
        ParticipationSource.COURSE,
        day,
        f"{QUOTA}:{period:%Y-%m}",
    ]
    return _Statement(ctes, params, providers)


def _status_sql(left: int) -> str:
    open_status = MonthStatus.AT_RISK if left else MonthStatus.MISSED
    return (
        f"CASE WHEN required > met + excused THEN '{open_status}' "
        f"WHEN excused > 0 THEN '{MonthStatus.EXCUSED}' ELSE '{MonthStatus.MET}' END"
    )


def _date(value) -> dt.date:
    # SQLite hands back dates of raw queries as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class PersonMonthRow:
    person_id: int
    office_id: int
    category: str
    result: MonthResult


def month_rows(
    persons: QuerySet[Person], period: dt.date, today: dt.date | None = None
) -> list[PersonMonthRow]:
    """``month_status`` of every person of ``persons`` under supervision in ``period``'s month,
    with their office and category, ordered by person: one query for the counts, one for the
    open requirements, one for the quotas, the providers' own (course titles, lectures)."""
    period = month_start(period)
    today = today or timezone.localdate()
    left = days_left(period, today)
    st = _statement(persons, period)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{st.ctes} SELECT person_id, office_id, category, quota, study, quota_state, "  # noqa: S608
            f"required, met, excused, {_status_sql(left)} FROM pq ORDER BY person_id",
            st.params,
        )
        counts = cursor.fetchall()
        cursor.execute(
            f"{st.ctes} SELECT rk.person_id, rk.rkey, rk.kind, rk.due FROM rk "  # noqa: S608
            "JOIN p ON p.person_id = rk.person_id "
            "WHERE rk.req = 1 AND rk.done = 0 AND rk.exc = 0",
            st.params,
        )
        open_rows = cursor.fetchall()
    titles: dict[str, str] = {}
    by_kind: dict[str, set[str]] = defaultdict(set)
    for _person, key, kind, _due in open_rows:
        by_kind[kind].add(key)
    for kind, keys in by_kind.items():
        titles.update(st.providers[kind].titles(keys))
    missing: dict[int, list[Missing]] = defaultdict(list)
    for person, key, kind, due in open_rows:
        missing[person].append(Missing(key, kind, titles.get(key, key), _date(due)))
    quota_key, end = f"{QUOTA}:{period:%Y-%m}", month_end(period)
    quota_titles: dict[int, str] = {}
    out = []
    for (
        person,
        office,
        category,
        quota,
        study,
        quota_state,
        required,
        met,
        excused,
        status,
    ) in counts:
        items = missing.get(person, [])
        if quota_state == OPEN:
            if quota not in quota_titles:
                quota_titles[quota] = quota_title(quota, period)
            items.append(Missing(quota_key, QUOTA, quota_titles[quota], end, quota - study))
        items.sort(key=lambda m: (m.due, m.key))
        result = MonthResult(
            period=period,
            status=status,
            required=required,
            met=met,
            excused=excused,
            missing=tuple(items),
            study_minutes=study,
            quota_minutes=quota,
            days_left=left,
        )
        out.append(PersonMonthRow(person, office, category, result))
    return out


def month_results(
    persons: QuerySet[Person], period: dt.date, today: dt.date | None = None
) -> dict[int, MonthResult]:
    """The SQL twin of ``participation.requirements.month_results``."""
    return {row.person_id: row.result for row in month_rows(persons, period, today)}


def office_counts(
    persons: QuerySet[Person], period: dt.date, today: dt.date | None = None
) -> list[dict]:
    """Counts of ``persons``' months by office and category, as ``OfficeMonth`` holds them
    (keys office_id, category, persons, met, excused, at_risk, missed): one aggregate query
    (plus one for the quotas and the providers' own)."""
    period = month_start(period)
    today = today or timezone.localdate()
    st = _statement(persons, period)
    sums = ", ".join(f"SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END) AS {s}" for s in STATUSES)
    sql = (
        f"{st.ctes}, ps AS (SELECT office_id, category, {_status_sql(days_left(period, today))} "  # noqa: S608
        f"AS status FROM pq) SELECT office_id, category, COUNT(*) AS persons, {sums} "
        f"FROM ps GROUP BY office_id, category"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, st.params)
        names = [col[0] for col in cursor.description]
        return [
            {name: v if name == "category" else int(v) for name, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]
