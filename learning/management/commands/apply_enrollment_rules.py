from __future__ import annotations

from django.core.management.base import BaseCommand

from learning.enrollment import do_apply_rules


class Command(BaseCommand):
    help = (
        "Apply the active auto-enrollment rules to every active person not yet covered by them "
        "(new persons, changed categories, newly published courses). Idempotent; run from "
        "cron, e.g. nightly."
    )

    def handle(self, *args, **options):
        report = do_apply_rules()
        self.stdout.write(
            f"{report.rules} rule(s) applied to {report.persons} new person(s): "
            f"{report.enrolled} enrollment(s) created"
        )
