"""The evidence files of a person's excused absences, read from private storage for the file.

``load_evidence`` reads each approved absence's evidence once per compilation (both copies
share it) and says what it found: an image (re-encoded as a JPEG of at most
``MAX_IMAGE_SIDE`` pixels, turned upright), a PDF (re-written by pypdf, so a file pypdf cannot
handle is found out here and not halfway through the layout), or a file that is missing or
unreadable. The snapshot's absence records learn the last two, so the completeness check of
the absences section says so (``rules.absence_evidence``); the PDF shows images on the
section's pages and appends PDF evidence after the last section (``dossiers.pdf``).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter

from dossiers.rules import AbsenceRecord, Snapshot
from participation.absences import JPEG, PDF, PNG, sniff
from participation.models import AbsenceRequest

logger = logging.getLogger(__name__)

# Long enough to read a doctor's note on A4 (about 180 dpi across the frame).
MAX_IMAGE_SIDE = 1280
# PDF evidence longer than this is cut (the upload limit is 10 MB; a scan is a few pages).
MAX_PDF_PAGES = 50

IMAGE, PDF_KIND, MISSING, UNREADABLE = "image", "pdf", "missing", "unreadable"


@dataclass(frozen=True)
class Evidence:
    """One absence's evidence as the file carries it. ``data`` is a JPEG (``image``) or a
    PDF (``pdf``); ``missing`` and ``unreadable`` carry none."""

    absence_id: int
    file_name: str  # the stored name's last part (never the uploader's name)
    kind: str
    data: bytes = b""
    width: int = 0  # pixels (images)
    height: int = 0
    pages: int = 0  # PDFs
    cut: bool = False  # a PDF longer than MAX_PDF_PAGES, cut there

    @property
    def attached(self) -> bool:
        return self.kind in (IMAGE, PDF_KIND)


def _image(absence_id: int, file_name: str, data: bytes) -> Evidence:
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            # Decode a phone photo at the nearest scale above the size kept: far faster.
            image.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        image.load()
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=80)
    return Evidence(absence_id, file_name, IMAGE, out.getvalue(), upright.width, upright.height)


def _pdf(absence_id: int, file_name: str, data: bytes) -> Evidence:
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("encrypted")
    total = len(reader.pages)
    if total == 0:
        raise ValueError("no pages")
    writer = PdfWriter()
    for page in reader.pages[:MAX_PDF_PAGES]:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    pages = min(total, MAX_PDF_PAGES)
    return Evidence(absence_id, file_name, PDF_KIND, out.getvalue(), pages=pages, cut=total > pages)


def read_evidence(absence: AbsenceRecord) -> Evidence:
    """The evidence of ``absence`` (which names a stored file), read and checked."""
    file_name = PurePosixPath(absence.evidence_name).name
    storage = AbsenceRequest._meta.get_field("evidence").storage
    try:
        with storage.open(absence.evidence_name, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError, SuspiciousFileOperation):
        # A name the storage refuses (outside its folder) is as good as missing.
        logger.warning("evidence of absence %s is missing", absence.absence_id)
        return Evidence(absence.absence_id, file_name, MISSING)
    kind = sniff(data[:16])
    try:
        if kind in (JPEG, PNG):
            return _image(absence.absence_id, file_name, data)
        if kind == PDF:
            return _pdf(absence.absence_id, file_name, data)
    except Exception:  # noqa: BLE001 - any decoder error means the file cannot be shown
        logger.warning("evidence of absence %s cannot be read", absence.absence_id)
    return Evidence(absence.absence_id, file_name, UNREADABLE)


def needs_evidence(absence: AbsenceRecord) -> bool:
    return absence.status == "approved" and bool(absence.evidence_name)


def load_evidence(snapshot: Snapshot) -> tuple[Snapshot, dict[int, Evidence]]:
    """Every approved absence's evidence, by absence id, and the snapshot with each absence
    marked when its evidence file is missing or unreadable."""
    found = {a.absence_id: read_evidence(a) for a in snapshot.absences if needs_evidence(a)}
    absences = tuple(
        dataclasses.replace(a, evidence_problem=found[a.absence_id].kind)
        if a.absence_id in found and not found[a.absence_id].attached
        else a
        for a in snapshot.absences
    )
    return dataclasses.replace(snapshot, absences=absences), found
