"""Remind each audience member of a lecture that starts within the next hour, and tell each
person of a newly assigned makeup (notifications, pushed to their open pages). Each person
hears once per lecture and once per makeup, so the command can run from cron every few
minutes."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from live.makeups import do_send_makeup_notices
from live.services import do_send_reminders


class Command(BaseCommand):
    help = "Send lecture reminders (once per person and lecture)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes", type=int, default=60, help="remind this many minutes before the start"
        )

    def handle(self, *args, **options):
        minutes = options["minutes"]
        if not 1 <= minutes <= 7 * 24 * 60:
            raise CommandError("--minutes must be between 1 and 10080")
        sent = do_send_reminders(before=dt.timedelta(minutes=minutes))
        notices = do_send_makeup_notices()
        self.stdout.write(f"{sent} reminders sent, {notices} makeup notices sent")
