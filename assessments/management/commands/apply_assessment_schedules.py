from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessments.schedules import do_apply_schedules


class Command(BaseCommand):
    help = (
        "Assign the questionnaires the schedule calls for today (intake, periodic, before the "
        "end of supervision) and notify the persons. Idempotent; run from cron once a day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="Apply the schedule as of this day (YYYY-MM-DD); default: today.",
        )

    def handle(self, *args, **options):
        raw = options.get("date")
        if raw:
            try:
                today = dt.date.fromisoformat(raw)
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, got {raw!r}") from None
        else:
            today = timezone.localdate()
        report = do_apply_schedules(today)
        self.stdout.write(f"{today.isoformat()}: {report}")
