"""Draw the current week's and month's spot checks (``rollcall.tick.do_draw_spot_checks``),
once a day from the scheduler. Idempotent: a person with checks in a period gets no more."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rollcall.tick import do_draw_spot_checks


class Command(BaseCommand):
    help = "Draw the spot checks of the current week and month from the roll-call policy."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="draw the periods of this day (YYYY-MM-DD)")

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be a day as YYYY-MM-DD") from None
        self.stdout.write(f"{do_draw_spot_checks(day)} spot checks planned")
