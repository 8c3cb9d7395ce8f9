"""The review history of a file (CSV and JSON) and the export of an archived file: one zip
holding the archived copies exactly as stored, their SHA-256 list, the review history as CSV
(Chinese headers in Chinese) and as JSON, and a manifest.

Every copy is checked against its recorded SHA-256 before anything is exported; a copy that
no longer matches stops the export (``DossierTampered``, written to the access log). Each
export is one line in the access log naming the hashes exported.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record_access
from dossiers.models import Dossier, DossierState
from dossiers.pdf import Copy
from dossiers.services import (
    HASH_FIELDS,
    DossierError,
    DossierNotFound,
    may_read_copy,
    read_checked,
)
from lib.downloads import csv_text

# The history's columns: a stable key (JSON) and its header (CSV, in the reader's language).
COLUMNS = (
    "time",
    "round",
    "round_title",
    "reviewer",
    "decision",
    "note",
    "section",
    "problem",
    "resolution",
    "resolved_at",
)


def _headers() -> dict[str, str]:
    return {
        "time": _("time"),
        "round": _("round"),
        "round_title": _("round name"),
        "reviewer": _("reviewer"),
        "decision": _("decision"),
        "note": _("note"),
        "section": _("section"),
        "problem": _("problem"),
        "resolution": _("what was done"),
        "resolved_at": _("resolved at"),
    }


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def history_rows(dossier: Dossier) -> list[dict[str, object]]:
    """Every decision with its round, reviewer, time and note, one row per problem it named
    (a pass has one row without a problem)."""
    catalogue = dossier.catalogue.parsed
    sections = {s.key: s.title() for s in catalogue.sections}
    rows: list[dict[str, object]] = []
    reviews = dossier.reviews.select_related("reviewer").prefetch_related("problems")
    for review in reviews:
        round_title = (
            catalogue.rounds[review.round - 1].title()
            if review.round <= len(catalogue.rounds)
            else review.round_key
        )
        head = {
            "time": _when(review.at),
            "round": review.round,
            "round_title": round_title,
            "reviewer": review.reviewer.get_full_name(),
            "decision": review.get_decision_display(),
            "note": review.note,
        }
        problems = list(review.problems.all())
        blank = {"section": "", "problem": "", "resolution": "", "resolved_at": ""}
        if not problems:
            rows.append({**head, **blank})
        for problem in problems:
            rows.append(
                {
                    **head,
                    "section": sections.get(problem.section, problem.section),
                    "problem": problem.text,
                    "resolution": problem.resolution,
                    "resolved_at": _when(problem.resolved_at),
                }
            )
    return rows


def history_csv(rows: list[dict[str, object]]) -> str:
    headers = _headers()
    return csv_text(
        [[headers[key] for key in COLUMNS], *([row[key] for key in COLUMNS] for row in rows)]
    )


def history_json(rows: list[dict[str, object]]) -> str:
    return json.dumps(
        {"columns": _headers(), "rows": rows}, ensure_ascii=False, indent=2, default=str
    )


def do_export_archive(dossier: Dossier, user, *, request=None) -> bytes:
    """The zip of an archived file for ``user``: the copies ``user`` may read (the officer's
    at least), exactly as stored, after checking each against its SHA-256."""
    log = {"request": request, "user": user, "obj": dossier, "person_id": dossier.person_id}
    if not may_read_copy(user, dossier, Copy.OFFICER):
        record_access(action=Action.DENIED, success=False, detail="archive export", **log)
        raise DossierNotFound(_("No such file."))
    if dossier.state != DossierState.ARCHIVED:
        raise DossierError(_("Only an archived file can be exported; this one is not archived."))
    copies = [c for c in Copy if c == Copy.OFFICER or may_read_copy(user, dossier, c)]
    files = {f"{copy.value}.pdf": read_checked(dossier, copy, log) for copy in copies}
    hashes = {f"{copy.value}.pdf": getattr(dossier, HASH_FIELDS[copy]) for copy in copies}
    rows = history_rows(dossier)
    manifest = {
        "case_number": dossier.person.case_number,
        "catalogue_version": dossier.catalogue.version,
        "compilation": dossier.compilation,
        "generated_at": dossier.generated_at.isoformat() if dossier.generated_at else None,
        "generated_by": dossier.generated_by_name,
        "archived_at": dossier.archived_at.isoformat() if dossier.archived_at else None,
        "retain_until": dossier.retain_until.isoformat() if dossier.retain_until else None,
        "exported_at": timezone.now().isoformat(),
        "exported_by": user.get_full_name() or user.get_username(),
        "files": hashes,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            # Stored, not deflated: the PDFs leave the archive byte for byte as kept.
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        sums = "".join(f"{digest}  {name}\n" for name, digest in hashes.items())
        archive.writestr("SHA256SUMS.txt", sums, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("history.csv", history_csv(rows), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("history.json", history_json(rows), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "manifest.json",
            json.dumps(manifest, ensure_ascii=False, indent=2),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    record_access(
        action=Action.EXPORT,
        detail="archive export: "
        + ", ".join(f"{name} sha256 {digest}" for name, digest in hashes.items()),
        **log,
    )
    return buffer.getvalue()
