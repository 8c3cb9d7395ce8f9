"""``manage.py build_dossier CASE_NUMBER --out FILE``: write the officer's copy of the file.

The file as it stands: compiled now if the person has none yet (or a compile was cut off),
otherwise the recorded copy (in review or archived), checked against its SHA-256. Exit 2 for
an unknown case number, 1 for any other refusal, with the reason in plain words.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers.models import Dossier, DossierState
from dossiers.pdf import Copy
from dossiers.services import DossierError, do_compile_dossier, read_copy
from people.models import Person

OPERATOR = "manage.py build_dossier"


class Command(BaseCommand):
    help = "Write the officer's copy of a person's education and assistance file as PDF."

    def add_arguments(self, parser):
        parser.add_argument("case_number")
        parser.add_argument("--out", required=True, help="where to write the PDF")

    def handle(self, *args, case_number: str, out: str, **options):
        person = Person.objects.filter(case_number=case_number.strip()).first()
        if person is None:
            raise CommandError(
                _("No person has case number %(number)s.") % {"number": case_number},
                returncode=2,
            )
        try:
            dossier = Dossier.objects.filter(person=person).first()
            if dossier is None or dossier.state == DossierState.COMPILING:
                dossier = do_compile_dossier(
                    person, operator=_("Command line (%(command)s)") % {"command": OPERATOR}
                )
            data = read_copy(dossier, Copy.OFFICER, username=OPERATOR)
        except DossierError as error:
            raise CommandError(str(error)) from error
        target = Path(out)
        # Whole or nothing: a temporary file beside the target, renamed over it when written.
        handle, temporary = tempfile.mkstemp(dir=target.parent or ".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(
            _("Wrote %(path)s (%(size)d bytes).") % {"path": target, "size": len(data)}
        )
