"""Fix the audience of lectures that have started and compute attendance of ended lectures
whose events changed (or that were never computed). Run from cron every few minutes."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from live.audience import do_resolve_started_audiences
from live.services import do_recompute_due


class Command(BaseCommand):
    help = "Fix started lectures' audiences; recompute ended lectures' attendance. Idempotent."

    def handle(self, *args, **options):
        resolved = do_resolve_started_audiences()
        computed = do_recompute_due()
        self.stdout.write(f"{resolved} audiences fixed, {computed} lectures computed")
