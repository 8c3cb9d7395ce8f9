"""Participation dashboards at province scale (issue #7): 50,000 persons × 12 months.

Needs the load data: ``python manage.py generate_load_data --persons 50000 --months 12`` on
the database of ``DATABASE_URL`` (made here if missing, with ``BENCH_PERSONS`` persons).

Rows (the month before this one, or ``BENCH_PERIOD=YYYY-MM``; the bureau administrator's
view of ~100 offices):
* **rollups**: the bureau dashboard (``office_month_rows`` + subtree totals + 12-month trend +
  heatmap) and one office's monthly figures with its person list, from the rollup tables;
* **ledger SQL**: the same office figures computed from the ledger with one aggregate query
  (``rollups.office_month_rows_from_ledger`` → ``participation.month_sql.office_counts``: common
  table expressions, UNION ALL and GROUP BY over the month's ledger and requirement rows, no
  correlated subquery per person); the note gives its agreement with the rollups;
* **naive**: a per-person ORM loop (``person_month`` for each person: ~5 queries each),
  timed on a sample of ``NAIVE_SAMPLE`` persons and extrapolated to all (said in the note).
Query counts and tracemalloc peaks are in the notes.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import best_of

NAIVE_SAMPLE = 300


def _setup():
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from cms.management.commands.generate_load_data import MARKER
    from people.models import Office, User
    from people.roles import Role

    if not Office.objects.filter(code=MARKER).exists():
        persons = os.environ.get("BENCH_PERSONS", "50000")
        call_command("generate_load_data", "--persons", persons, "--months", "12")
    province = Office.objects.get(code=MARKER)
    admin, _ = User.objects.get_or_create(
        username="load-bench-administrator", defaults={"office": province, "password": "!"}
    )
    admin.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    return admin, province


def bureau_dashboard(admin, period):
    from participation import rollups

    rows = rollups.office_month_rows(admin, period)
    totals = rollups.subtree_totals(rows)
    months = rollups.last_months(period, 12)
    return rows, totals, rollups.trend(admin, months), rollups.heatmap(admin, months)


def office_figures(admin, office, period):
    from participation import rollups

    rows = [r for r in rollups.office_month_rows(admin, period) if r.path.startswith(office.path)]
    persons = list(rollups.person_month_rows(admin, office, period)[:50])
    return rows, persons


def ledger_dashboard(admin, period, office=None):
    """The same office figures straight from the ledger (``office_month_rows_from_ledger``:
    ``participation.month_sql``'s one aggregate), with subtree totals."""
    from participation import rollups

    rows = rollups.office_month_rows_from_ledger(admin, period, office=office)
    return rows, rollups.subtree_totals(rows)


def naive(persons, period):
    """The per-person ORM loop: ``person_month`` for each person, counted in Python."""
    from participation.requirements import person_month

    counts: dict[int, list[int]] = {}
    for person in persons:
        result = person_month(person, period)
        row = counts.setdefault(person.office_id, [0, 0])
        row[0] += 1
        row[1] += result.is_complete
    return counts


def _peak(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def run() -> list[dict]:
    from participation.requirements import in_supervision
    from participation.rollups import previous_month
    from people.models import Office, Person

    admin, province = _setup()

    # BENCH_PERIOD=YYYY-MM: another month (e.g. while the rollups of later ones are computed)
    chosen = os.environ.get("BENCH_PERIOD")
    period = (
        dt.date.fromisoformat(f"{chosen}-01")
        if chosen
        else previous_month(timezone.localdate().replace(day=1))
    )
    office = Office.objects.filter(path__startswith=province.path, depth=province.depth + 2)[0]
    supervised = in_supervision(Person.objects.all(), period)
    total = supervised.count()
    in_office = supervised.filter(office=office).count()
    offices = Office.objects.filter(path__startswith=province.path).count()

    bureau_b = best_of(lambda: bureau_dashboard(admin, period), repeat=5)
    office_b = best_of(lambda: office_figures(admin, office, period), repeat=5)
    bureau_q = _queries(lambda: bureau_dashboard(admin, period))
    office_q = _queries(lambda: office_figures(admin, office, period))
    bureau_a = best_of(lambda: ledger_dashboard(admin, period), repeat=3)
    office_a = best_of(lambda: ledger_dashboard(admin, period, office), repeat=3)
    bureau_aq = _queries(lambda: ledger_dashboard(admin, period))
    office_aq = _queries(lambda: ledger_dashboard(admin, period, office))
    bureau_cpu = float("inf")  # this process's CPU (SQLite's work included, not PostgreSQL's)
    for _ in range(5):
        cpu_began = time.process_time()
        bureau_dashboard(admin, period)
        bureau_cpu = min(bureau_cpu, time.process_time() - cpu_began)

    # Agreement of the SQL aggregate with the rollups (month_status), office by office.
    from participation.rollups import office_month_rows

    def counts(rows):
        return {
            (r.office_id, c, s): getattr(f, s)
            for r in rows
            for c, f in r.by_category.items()
            for s in ("persons", "met", "excused", "at_risk", "missed")
        }

    ledger, rolled = (
        counts(ledger_dashboard(admin, period)[0]),
        counts(office_month_rows(admin, period)),
    )
    agree = sum(v for k, v in rolled.items() if ledger.get(k) == v) / max(1, sum(rolled.values()))

    sample = list(supervised.order_by("?")[:NAIVE_SAMPLE])
    began = time.perf_counter()
    naive(sample, period)
    per_person = (time.perf_counter() - began) / max(1, len(sample))
    naive_bureau = per_person * total
    naive_office = per_person * in_office

    peak_b = _peak(lambda: bureau_dashboard(admin, period))
    peak_a = _peak(lambda: ledger_dashboard(admin, period))
    peak_n = _peak(lambda: naive(sample, period)) * total / max(1, len(sample))
    where = f"{connection.vendor}, {total} persons in {period:%Y-%m}, {offices} offices"
    return [
        {
            "name": "bureau dashboard from rollups",
            "ours": bureau_b,
            "naive": naive_bureau,
            "note": f"{where}; {bureau_q} queries; {bureau_cpu * 1000:.0f} ms CPU in-process; "
            f"peak {peak_b / 1e6:.1f} MB; naive "
            f"extrapolated from {len(sample)} persons ({per_person * 1000:.1f} ms each, "
            f"peak ~{peak_n / 1e6:.0f} MB)",
        },
        {
            "name": "bureau dashboard from the ledger (SQL)",
            "ours": bureau_a,
            "naive": naive_bureau,
            "note": f"{bureau_aq} queries (one aggregate); peak {peak_a / 1e6:.1f} MB; "
            f"agrees with the rollups on {agree:.1%} of the counts",
        },
        {
            "name": "office month figures from rollups",
            "ours": office_b,
            "naive": naive_office,
            "note": f"{in_office} persons in the office; {office_q} queries",
        },
        {
            "name": "office month figures from the ledger (SQL)",
            "ours": office_a,
            "naive": naive_office,
            "note": f"{office_aq} queries (one aggregate)",
        },
    ]
