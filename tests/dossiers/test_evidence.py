"""The excused absences' evidence inside the file: images on the absences section's pages,
PDF evidence appended with its own bookmark, both copies alike; a missing or unreadable file
is named in the section and makes the check incomplete, and never stops the compile."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import override
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A5, landscape
from reportlab.pdfgen.canvas import Canvas

from dossiers import services
from dossiers.evidence import MAX_IMAGE_SIDE, load_evidence
from dossiers.pdf import Copy
from dossiers.services import do_compile_dossier
from dossiers.snapshot import read_snapshot
from lib.pdf import register_font
from lib.storage import private_storage
from participation.models import AbsenceRequest, AbsenceStatus
from tests.dossiers.test_services import stored_bytes
from tests.pdfs import official_pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_storage(private_dir, monkeypatch):
    """The evidence field keeps the storage it was given at import; point it at the test's
    temporary private storage too."""
    monkeypatch.setattr(AbsenceRequest._meta.get_field("evidence"), "storage", private_storage())


def png_bytes(width: int = 2400, height: int = 1200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    """A small evidence PDF in Chinese, landscape A5 (another size than the file's A4)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=landscape(A5), initialFontName=register_font())
    for number in range(pages):
        canvas.setFont(register_font(), 14)
        canvas.drawString(50, 200, f"诊断证明 第{number + 1}页")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def absence(person, month_offset: int, title: str, name: str = "", data: bytes = b""):
    period = person.supervision_start.replace(day=1)
    for _ in range(month_offset):
        period = (period + timezone.timedelta(days=32)).replace(day=1)
    row = AbsenceRequest.objects.create(
        person=person,
        period=period,
        requirement_key=f"lecture:{month_offset + 1}",
        requirement=title,
        reason="住院，有个人隐私",
        filed_at=timezone.now(),
        status=AbsenceStatus.APPROVED,
    )
    if name:
        row.evidence.save(name, ContentFile(data), save=False)
        row.evidence_type = "image/png" if name.endswith("png") else "application/pdf"
        row.save(update_fields=["evidence", "evidence_type"])
    return row


def section_pages(reader: PdfReader, title: str) -> list[int]:
    return [i for i, page in enumerate(reader.pages) if title in page.extract_text()]


def test_images_sit_in_the_absences_section_and_pdf_pages_are_appended(released, private_dir):
    image = absence(released, 0, "法治讲座", "photo.png", png_bytes())
    pdf = absence(released, 1, "心理讲座", "scan.pdf", pdf_bytes(2))
    with override("zh-hans"), timezone.override("Asia/Shanghai"):
        dossier = do_compile_dossier(released)
    verdicts = {v["section"]: v for v in dossier.verdicts}
    assert verdicts["absences"]["complete"] is True
    names = [image.evidence.name.rsplit("/", 1)[1], pdf.evidence.name.rsplit("/", 1)[1]]
    copies = {copy: stored_bytes(private_dir, dossier, copy) for copy in Copy}
    for copy, data in copies.items():
        # Fonts embedded as subsets, no raw codes, no English besides the file names.
        text = official_pdf_text(data, data=[released.case_number, *names, "pdf", "png"])
        reader = PdfReader(io.BytesIO(data))
        total = len(reader.pages)
        # The image: on a page of the absences section, under its caption.
        pictured = [i for i, page in enumerate(reader.pages) if page.images]
        assert len(pictured) == 1, copy
        page_text = reader.pages[pictured[0]].extract_text()
        assert "法治讲座" in page_text and names[0] in page_text
        assert "住院" not in text and released.full_name not in page_text
        (picture,) = reader.pages[pictured[0]].images
        assert max(picture.image.size) <= MAX_IMAGE_SIDE
        # The PDF: its two pages are the last two, each under its caption, with the footer.
        for offset, page in enumerate(reader.pages[-2:]):
            page_text = page.extract_text()
            assert f"诊断证明 第{offset + 1}页" in page_text
            assert names[1] in page_text and f"({offset + 1}/2)" in page_text
            assert f"第 {total - 1 + offset} 页 / 共 {total} 页" in page_text
            assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]  # A4
        outline = {item.title: reader.get_destination_page_number(item) for item in reader.outline}
        bookmark = next(title for title in outline if names[1] in title)
        assert outline[bookmark] == total - 2
        # The section says where the PDF starts.
        assert f"从第 {total - 1} 页起" in text.replace("\n", "")
    officer, counselor = (PdfReader(io.BytesIO(copies[c])) for c in Copy)
    assert len(counselor.pages) >= len(officer.pages)


def test_a_missing_or_unreadable_evidence_file_is_named_and_the_file_still_compiles(
    released, private_dir
):
    gone = absence(released, 0, "法治讲座", "photo.png", png_bytes())
    (private_dir / gone.evidence.name).unlink()
    absence(released, 1, "心理讲座", "scan.pdf", b"%PDF-1.4 not really a pdf %%EOF")
    absence(released, 2, "家庭讲座", "broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with override("zh-hans"):
        dossier = do_compile_dossier(released)
    verdicts = {v["section"]: v for v in dossier.verdicts}
    missing = verdicts["absences"]["missing"]
    assert verdicts["absences"]["complete"] is False and len(missing) == 3
    assert any("法治讲座" in item and "找不到" in item for item in missing)
    assert any("心理讲座" in item and "无法打开" in item for item in missing)
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(stored_bytes(private_dir, dossier, Copy.OFFICER))).pages
    )
    assert "证明材料文件不在存储中" in text
    assert text.count("证明材料文件无法打开，未附上") == 2


def test_evidence_is_read_once_for_both_copies(released, private_dir, monkeypatch):
    absence(released, 0, "法治讲座", "photo.png", png_bytes(200, 100))
    calls = []
    real = services.load_evidence
    monkeypatch.setattr(services, "load_evidence", lambda s: calls.append(s) or real(s))
    do_compile_dossier(released)
    assert len(calls) == 1


def test_pending_and_refused_absences_bring_no_evidence(released, private_dir):
    row = absence(released, 0, "法治讲座", "photo.png", png_bytes(200, 100))
    row.status = AbsenceStatus.REJECTED
    row.save(update_fields=["status"])
    _snapshot, evidence = load_evidence(read_snapshot(released))
    assert evidence == {}


def test_a_stored_name_outside_the_storage_counts_as_missing(released, private_dir):
    row = absence(released, 0, "法治讲座", "photo.png", png_bytes(200, 100))
    AbsenceRequest.objects.filter(pk=row.pk).update(evidence="../../etc/passwd")
    snapshot, evidence = load_evidence(read_snapshot(released))
    assert evidence[row.pk].kind == "missing"
    assert snapshot.absences[0].evidence_problem == "missing"
