"""The ``build_dossier`` command contract: exit 0 and a PDF; unknown case number: exit 2."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from dossiers.models import Dossier, DossierState

pytestmark = pytest.mark.django_db


def test_it_writes_the_officers_copy_and_records_the_file(released, tmp_path):
    out = tmp_path / "file.pdf"
    call_command("build_dossier", released.case_number, "--out", str(out), stdout=io.StringIO())
    data = out.read_bytes()
    assert len(PdfReader(io.BytesIO(data)).pages) >= 8
    dossier = Dossier.objects.get(person=released)
    assert dossier.state == DossierState.IN_ROUND
    assert hashlib.sha256(data).hexdigest() == dossier.officer_sha256
    # Compiled by the command, not by the scheduled job.
    assert "build_dossier" in dossier.generated_by_name
    assert "build_dossier" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    # Again: the recorded copy, not a new compilation.
    call_command("build_dossier", released.case_number, "--out", str(out), stdout=io.StringIO())
    assert Dossier.objects.get(person=released).compilation == 1
    assert list(tmp_path.glob("*.part")) == []


def test_an_unknown_case_number_exits_2_with_a_message(org, tmp_path):
    out = tmp_path / "file.pdf"
    with pytest.raises(CommandError) as raised:
        call_command("build_dossier", "NO-SUCH-CASE", "--out", str(out))
    assert raised.value.returncode == 2
    assert "NO-SUCH-CASE" in str(raised.value)
    assert not out.exists()
