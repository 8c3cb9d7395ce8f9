from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from people.services import RosterFileError, check_roster, do_import_roster, read_roster


class Command(BaseCommand):
    help = (
        "Create or update offices and supervised persons from an .xlsx or .csv roster. "
        "Every row is checked first; if any row is bad nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            frame = read_roster(file)
        except RosterFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        report = check_roster(frame)
        if report.errors:
            for line, reason in report.errors:
                self.stderr.write(f"line {line}: {reason}")
            raise CommandError(
                f"{len(report.errors)} bad row(s); nothing was imported. Fix them and run again."
            )
        summary = do_import_roster(report)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(report.rows)} row(s): {summary.persons_created} person(s) "
                f"created, {summary.persons_updated} updated, "
                f"{summary.offices_created} office(s) created."
            )
        )
