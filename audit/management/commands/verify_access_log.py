from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Recompute the access log's HMAC chain; exit non-zero if any event was altered."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            where = f" at event {report.broken_at}" if report.broken_at else ""
            raise CommandError(
                f"access log tampered{where}: {report.reason} "
                f"({report.checked} event(s) verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"access log intact: {report.checked} event(s)"))
