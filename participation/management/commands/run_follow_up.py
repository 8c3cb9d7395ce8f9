"""The daily follow-up of unmet participation (``participation.followup.run_follow_up``): reminders
to persons, tasks to case officers, escalation to administrators, resolution of what is done.
Idempotent: cron may run it several times a day; nobody hears twice about the same thing on
the same day."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from participation.followup import run_follow_up


class Command(BaseCommand):
    help = "Follow up unmet participation: remind, give officers tasks, escalate, resolve."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="run as of this day (YYYY-MM-DD; default today, never in the future)"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be a day as YYYY-MM-DD") from None
            if day > today:
                raise CommandError("--date cannot be in the future")
            today = day
        summary = run_follow_up(today)
        self.stdout.write(f"{today}: {summary}")
