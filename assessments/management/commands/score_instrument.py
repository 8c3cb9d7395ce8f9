from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from assessments.scoring import AnswerError, score
from assessments.services import InstrumentFileError, UnknownInstrument, get_instrument_definition

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Score one response and print one JSON object: instrument, version, scales "
        "(raw, score, band per scale) and critical_items. Answers are 0-based option indexes "
        "in item order. Bad input exits with status 2."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--answers", required=True, help="JSON list of 0-based option indexes, e.g. '[0, 1]'"
        )

    def handle(self, *args, slug: str, answers: str, **options):
        try:
            parsed = json.loads(answers)
        except ValueError:
            raise CommandError(
                "--answers is not valid JSON; expected a list like [0, 1, 2]",
                returncode=USAGE_ERROR,
            ) from None
        if not isinstance(parsed, list):
            raise CommandError("--answers must be a JSON list", returncode=USAGE_ERROR)
        try:
            definition = get_instrument_definition(slug)
        except UnknownInstrument:
            raise CommandError(f"unknown instrument {slug!r}", returncode=USAGE_ERROR) from None
        except InstrumentFileError as exc:
            raise CommandError(
                f"instrument file {exc.path.name} is invalid; run load_instruments for details",
                returncode=USAGE_ERROR,
            ) from None
        try:
            result = score(definition, parsed)
        except AnswerError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from None
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
