from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plans.rules import DEFAULT_RULES, RuleSetError, do_save_rule_set, read_rules_file


class Command(BaseCommand):
    help = (
        "Validate a plan rules file (default: the shipped plans/rules/default_v1.json) against "
        "the schema and the instrument library, and load it. The version in use is changed in "
        "place only while no plan was drafted with it; otherwise a new version is made."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_RULES)
        parser.add_argument("--note", default="", help="what changed (shown in the admin)")

    def handle(self, *args, path: Path, note: str, **options):
        try:
            rules = read_rules_file(path)
            row, outcome = do_save_rule_set(rules, None, note or f"loaded from {path.name}")
        except RuleSetError as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"{path}: invalid plan rules, nothing loaded") from exc
        self.stdout.write(f"{path.name}: plan rules v{row.version} {outcome}")
