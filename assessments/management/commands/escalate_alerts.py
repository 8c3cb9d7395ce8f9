from __future__ import annotations

from django.core.management.base import BaseCommand

from assessments.taking import escalate_overdue_alerts


class Command(BaseCommand):
    help = (
        "Escalate critical-item alerts left unacknowledged for 24 hours to the administrators "
        "of the person's bureau. Run from cron, e.g. every 15 minutes."
    )

    def handle(self, *args, **options):
        count = escalate_overdue_alerts()
        self.stdout.write(f"{count} alert(s) escalated")
