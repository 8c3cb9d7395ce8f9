from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.services import (
    ImmutableVersionError,
    InstrumentFileError,
    do_load_instrument,
    instrument_files,
    read_instrument_file,
)


class Command(BaseCommand):
    help = (
        "Validate and load every instrument file in assessments/instruments/ plus any files "
        "or directories given. A bad file is reported and nothing from it is loaded; "
        "published versions are never changed. Exits non-zero if any file failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="extra instrument files or dirs")

    def handle(self, *args, paths: list[Path], **options):
        failed = 0
        for path in instrument_files(paths):
            try:
                definition = read_instrument_file(path)
                status = do_load_instrument(definition)
            except InstrumentFileError as exc:
                failed += 1
                self.stderr.write(f"{path}: invalid instrument file, nothing loaded:")
                for problem in exc.problems:
                    self.stderr.write(f"  {problem}")
                continue
            except ImmutableVersionError as exc:
                failed += 1
                self.stderr.write(f"{path}: {exc}")
                continue
            self.stdout.write(f"{path.name}: {definition.slug} v{definition.version} {status}")
        if failed:
            raise CommandError(f"{failed} file(s) not loaded; see the messages above.")
