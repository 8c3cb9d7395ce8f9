from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lib.months import month_start
from participation.models import PersonMonth
from participation.rollups import previous_month, refresh_dirty, refresh_month


def _month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError as error:
        raise CommandError(f"--month must look like 2026-03, not {value!r}") from error


class Command(BaseCommand):
    help = (
        "Bring the participation rollups (person-month, office-month) up to date. Without "
        "options: the persons of this month and last whose ledger or profile changed since "
        "their rollup was computed (run from cron every few minutes). --month YYYY-MM: that "
        "month in full. --all: every month that has rollups, and this one, in full (nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="recompute this month (YYYY-MM) in full")
        parser.add_argument(
            "--all", action="store_true", help="recompute every month with rollups in full"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        this_month = month_start(today)
        if options["month"]:
            period = _month(options["month"])
            if period > this_month:
                raise CommandError(f"{period:%Y-%m} has not started yet: nothing to compute.")
            jobs = [(period, True)]
        elif options["all"]:
            months = set(PersonMonth.objects.values_list("period", flat=True).distinct())
            jobs = [(p, True) for p in sorted(months | {this_month}) if p <= this_month]
        else:
            jobs = [(previous_month(this_month), False), (this_month, False)]
        for period, full in jobs:
            began = time.perf_counter()
            result = refresh_month(period, today=today) if full else refresh_dirty(period, today)
            self.stdout.write(
                f"{period:%Y-%m}: {result.persons} person-month(s) computed, "
                f"{result.removed} removed, {result.offices} office-month row(s) "
                f"in {time.perf_counter() - began:.1f} s"
            )
