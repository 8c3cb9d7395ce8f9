"""Close presence checks whose answer window has passed: unanswered ones become missed.
Run from cron every minute (the roster, the next check and the attendance recompute close
them too; this keeps the stored answers right when nobody is watching)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from live.roster import do_close_expired_checks


class Command(BaseCommand):
    help = "Close expired presence checks (unanswered → missed). Idempotent."

    def handle(self, *args, **options):
        closed = do_close_expired_checks()
        self.stdout.write(f"{closed} presence checks closed")
