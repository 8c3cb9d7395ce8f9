from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lib.months import month_start
from participation.rollups import refresh_all, refresh_month, refresh_recent


def _month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError as error:
        raise CommandError(f"--month must look like 2026-03, not {value!r}") from error


class Command(BaseCommand):
    help = (
        "Bring the participation rollups (person-month, office-month) up to date. Without "
        "options: the persons of this month and last whose ledger or profile changed since "
        "their rollup was computed (the scheduler runs this every 5 minutes, ops/schedule.py). "
        "--month YYYY-MM: that month in full. --all: every month that has rollups, and this "
        "one, in full (nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="recompute this month (YYYY-MM) in full")
        parser.add_argument(
            "--all", action="store_true", help="recompute every month with rollups in full"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        began = time.perf_counter()
        if options["month"]:
            period = _month(options["month"])
            if period > month_start(today):
                raise CommandError(f"{period:%Y-%m} has not started yet: nothing to compute.")
            results = [refresh_month(period, today=today)]
        elif options["all"]:
            results = refresh_all(today)
        else:
            results = refresh_recent(today)
        for result in results:
            self.stdout.write(
                f"{result.period:%Y-%m}: {result.persons} person-month(s) computed, "
                f"{result.removed} removed, {result.offices} office-month row(s)"
            )
        self.stdout.write(f"in {time.perf_counter() - began:.1f} s")
