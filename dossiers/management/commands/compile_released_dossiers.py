"""``manage.py compile_released_dossiers``: compile the education-and-assistance file of
every person whose supervision ended before today and who has none yet. Runs once a day
(``ops/schedule.py``); by hand it does the same."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dossiers.services import do_compile_released


class Command(BaseCommand):
    help = "Compile the files of persons whose supervision has ended (once a day)."

    def handle(self, *args, **options):
        counts = do_compile_released()
        self.stdout.write(_("%(compiled)d files compiled, %(failed)d failed.") % counts)
        if counts["failed"]:
            # Non-zero for cron; the failures are in the log with their tracebacks.
            raise SystemExit(1)
