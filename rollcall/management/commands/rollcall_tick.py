"""The roll-call minute tick (``rollcall.tick.do_tick``), run every minute by the scheduler:
text-message fallback, deadlines, follow-up tasks, escalation, due spot checks. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rollcall.tick import do_tick


class Command(BaseCommand):
    help = "Roll-calls: send the SMS fallback, close expired calls, follow up, start spot checks."

    def handle(self, *args, **options):
        self.stdout.write(str(do_tick()))
