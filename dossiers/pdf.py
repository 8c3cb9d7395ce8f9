"""The file as PDF (``render_copy``): a cover, a table of contents whose entries are PDF
bookmarks (the outline) and links, one section per catalogue entry with its completeness
verdict and the records behind it, and on every page who generated it, when, and "page x / y".

The officer's copy leaves out questionnaire answers and scores; the counselor's copy has them.
Pages are laid out twice: the first pass learns on which page each section starts and how
many pages there are, the second prints them (the contents keep their size, so the pages
do not move).

Both copies carry the excused absences' evidence (``dossiers.evidence``): images on the
absences section's pages, each under a caption without the person's name (month, what was
excused, the date filed, the stored file's name); PDF evidence appended after the last
section, each of its pages shrunk onto an A4 page under the same caption and over the same
footer, with its own bookmark. Evidence that is missing or unreadable is named in the section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import RectangleObject
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from assessments.models import AssignmentReason, AssignmentStatus
from dossiers.evidence import IMAGE, MISSING, PDF_KIND, Evidence
from dossiers.rules import AbsenceRecord, Snapshot, Verdict
from dossiers.schema import CatalogueDef, SectionDef
from lib.pdf import (
    MARGIN,
    Footer,
    document_template,
    page_of,
    paragraph,
    register_font,
    table,
)
from live.models import AttendanceStatus
from participation.models import AbsenceStatus, MonthStatus
from plans.models import PlanStatus

FRAME_WIDTH = A4[0] - 2 * MARGIN
IMAGE_MAX_HEIGHT = 190 * mm


class Copy(models.TextChoices):
    OFFICER = "officer", gettext_lazy("Case officer's copy")
    COUNSELOR = "counselor", gettext_lazy("Counselor's copy")


@dataclass(frozen=True)
class FileInfo:
    """What the cover and the foot of every page state."""

    generated_by: str
    generated_at: dt.datetime
    catalogue_version: int
    compilation: int


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


# --- Records behind each rule kind ----------------------------------------------------------


def _months_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Month"), _("Status"), _("Study minutes"), _("Quota")]]
    rows += [
        [f"{m.period:%Y-%m}", _label(MonthStatus, m.status), m.study_minutes, m.quota_minutes]
        for m in snapshot.months
    ]
    return rows


def _lesson_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Completed on"), _("Lesson"), _("Study minutes"), _("Quiz")]]
    rows += [
        [
            _day(lesson.completed_on) if lesson.completed_on else _("not completed"),
            lesson.title,
            lesson.minutes,
            _("passed") if lesson.quiz_passed else "—",
        ]
        for lesson in snapshot.lessons
    ]
    return rows


def _lecture_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Date"), _("Lecture"), _("Required"), _("Attendance")]]
    for lecture in snapshot.lectures:
        status = _label(AttendanceStatus, lecture.status)
        if lecture.makeup_done:
            status = _("%(status)s, made up") % {"status": status}
        rows.append(
            [_day(lecture.day), lecture.title, _("yes") if lecture.required else _("no"), status]
        )
    return rows


def _questionnaire_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    header: list[object] = [_("Questionnaire"), _("Reason"), _("Status"), _("Submitted")]
    header.append(_("Reviewed"))
    if copy == Copy.COUNSELOR:
        header += [_("Scores"), _("Answers")]
    rows = [header]
    for q in snapshot.questionnaires:
        row: list[object] = [
            q.title,
            _label(AssignmentReason, q.reason),
            _label(AssignmentStatus, q.status),
            _day(q.submitted_on),
            _day(q.reviewed_on),
        ]
        if copy == Copy.COUNSELOR:
            separator = pgettext("label separator", ": ")
            row.append("; ".join(f"{label}{separator}{score}" for label, score in q.scores))
            row.append(pgettext("list separator", ", ").join(q.answers))
        rows.append(row)
    return rows


def _plan_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Plan version"), _("Status"), _("Approved")]]
    rows += [[p.version, _label(PlanStatus, p.status), _day(p.approved_on)] for p in snapshot.plans]
    return rows


def _plan_review_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Plan version"), _("Due"), _("Held")]]
    rows += [
        [r.plan_version, _day(r.scheduled_for), _day(r.held_on)] for r in snapshot.plan_reviews
    ]
    return rows


def _evidence_label(absence: AbsenceRecord) -> str:
    if absence.evidence_type.startswith("image/"):
        return _("photo")
    if absence.evidence_type == "application/pdf":
        return _("scanned document")
    return _("file on record")


def _absence_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Month"), _("Requirement"), _("Decision"), _("Evidence")]]
    rows += [
        [
            f"{a.period:%Y-%m}",
            a.requirement,
            _label(AbsenceStatus, a.status),
            _evidence_label(a) if a.has_evidence else _("none"),
        ]
        for a in snapshot.absences
    ]
    return rows


RECORDS: dict[str, Callable[[Snapshot, str], list[list[object]]]] = {
    "monthly_study": _months_rows,
    "required_lectures": _lecture_rows,
    "questionnaires_reviewed": _questionnaire_rows,
    "plan_approved": _plan_rows,
    "plan_reviews_on_time": _plan_review_rows,
    "absence_evidence": _absence_rows,
}

# More records under a rule's own: the lessons behind the months' study minutes.
MORE_RECORDS: dict[str, tuple[Callable[[Snapshot, str], list[list[object]]], str]] = {
    "monthly_study": (_lesson_rows, gettext_lazy("Lessons studied")),
}


# --- Layout ---------------------------------------------------------------------------------


class _Anchor(Flowable):
    """Marks where a section starts: a named destination, an outline entry, and its page
    noted in ``pages``."""

    def __init__(self, key: str, title: str, pages: dict[str, int]):
        super().__init__()
        self.key, self.title, self.pages = key, title, pages
        self.width = self.height = 0

    def wrap(self, avail_width, avail_height):
        return 0, 0

    def draw(self):
        self.canv.bookmarkPage(self.key)
        self.canv.addOutlineEntry(self.title, self.key, level=0)
        self.pages[self.key] = self.canv.getPageNumber()


def _link(text: str, key: str) -> Paragraph:
    style = ParagraphStyle(
        "toc",
        fontName=register_font(),
        fontSize=10,
        leading=15,
        textColor=colors.HexColor("#1d4f7a"),
    )
    return Paragraph(f'<a href="#{key}">{escape(text)}</a>', style)


def _contents_table(rows: list[list[object]]) -> Table:
    """The contents: like ``lib.pdf.table`` but its title cells are links."""
    font = register_font()
    result = Table(rows, colWidths=[10 * mm, 100 * mm, 30 * mm, 20 * mm], hAlign="LEFT")
    result.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return result


def verdict_text(verdict: Verdict) -> str:
    return _("Complete") if verdict.complete else _("Incomplete")


def _story(
    snapshot: Snapshot,
    catalogue: CatalogueDef,
    verdicts: dict[str, Verdict],
    copy: str,
    info: FileInfo,
    pages: dict[str, int],
    known: dict[str, int],
    evidence: Mapping[int, Evidence],
) -> list:
    title = _("Education and assistance file")
    story: list = [
        _Anchor("cover", title, pages),
        Spacer(1, 40 * mm),
        paragraph(title, "title"),
        paragraph(str(Copy(copy).label), "heading"),
        Spacer(1, 8 * mm),
        table(
            [
                [_("Name"), snapshot.full_name],
                [_("Case number"), snapshot.case_number],
                [_("Office"), snapshot.office],
                [
                    _("Supervision"),
                    f"{_day(snapshot.supervision_start)} – {_day(snapshot.supervision_end)}",
                ],
                [_("Catalogue version"), info.catalogue_version],
                [_("Compilation"), info.compilation],
                [
                    _("Generated at"),
                    timezone.localtime(info.generated_at).strftime("%Y-%m-%d %H:%M"),
                ],
                [_("Generated by"), info.generated_by],
            ],
            widths=[45 * mm, 110 * mm],
        ),
        PageBreak(),
        _Anchor("contents", _("Contents"), pages),
        paragraph(_("Contents"), "heading"),
    ]
    contents: list[list[object]] = [["#", _("Section"), _("Check"), _("Page")]]
    for number, section in enumerate(catalogue.sections, start=1):
        contents.append(
            [
                number,
                _link(section.title(), section.key),
                verdict_text(verdicts[section.key]),
                known.get(section.key, "00"),
            ]
        )
    story.append(_contents_table(contents))
    for number, section in enumerate(catalogue.sections, start=1):
        story += _section(number, section, verdicts[section.key], snapshot, copy, pages)
        if section.rule == "absence_evidence":
            story += _evidence_parts(snapshot, evidence, known)
    return story


def evidence_caption(absence: AbsenceRecord, evidence: Evidence) -> str:
    """What an evidence file is, without the person's name: the month, what was excused, the
    date it was filed and the stored file's name."""
    return _("Evidence: %(month)s %(requirement)s, filed %(day)s, file %(file)s") % {
        "month": f"{absence.period:%Y-%m}",
        "requirement": absence.requirement,
        "day": _day(absence.filed_on),
        "file": evidence.file_name,
    }


def _evidence_key(absence_id: int) -> str:
    # Section keys match ``schema.KEY`` (no colon), so these never collide with them.
    return f"evidence:{absence_id}"


class _Jpeg(ImageReader):
    """A JPEG that goes into the PDF as it is. reportlab names each image by a digest of its
    decoded pixels, which decodes every photo again on every layout pass; the JPEG's own
    bytes name it as well (``getRGBData`` serves only that digest: a JPEG's stream is read
    from ``jpeg_fh``)."""

    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))
        self._data = data
        self._dataA = None

    def getRGBData(self):  # noqa: N802 - reportlab's name
        return self._data


class _Picture(Flowable):
    """An evidence photo, scaled to fit the frame."""

    def __init__(self, evidence: Evidence):
        super().__init__()
        scale = min(FRAME_WIDTH / evidence.width, IMAGE_MAX_HEIGHT / evidence.height)
        self.width, self.height = evidence.width * scale, evidence.height * scale
        self.data = evidence.data

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def draw(self):
        if self.data:
            self.canv.drawImage(_Jpeg(self.data), 0, 0, self.width, self.height)


def _evidence_parts(
    snapshot: Snapshot, evidence: Mapping[int, Evidence], known: dict[str, int]
) -> list:
    shown = [a for a in snapshot.absences if a.absence_id in evidence]
    if not shown:
        return []
    parts: list = [Spacer(1, 4 * mm), paragraph(_("Evidence files"), "heading")]
    for absence in shown:
        item = evidence[absence.absence_id]
        caption = paragraph(evidence_caption(absence, item), "text")
        if item.kind == IMAGE:
            parts.append(KeepTogether([caption, _Picture(item), Spacer(1, 4 * mm)]))
            continue
        if item.kind == PDF_KIND:
            note = _(
                "A PDF of %(pages)d pages, attached at the end of this file from page %(page)s."
            ) % {"pages": item.pages, "page": known.get(_evidence_key(absence.absence_id), "00")}
            if item.cut:
                note += " " + _("Only its first %(pages)d pages are attached.") % {
                    "pages": item.pages
                }
        elif item.kind == MISSING:
            note = _("The evidence file is not in storage; it could not be attached.")
        else:
            note = _("The evidence file cannot be read; it is not attached.")
        parts += [caption, paragraph(note, "small"), Spacer(1, 3 * mm)]
    return parts


def _section(
    number: int,
    section: SectionDef,
    verdict: Verdict,
    snapshot: Snapshot,
    copy: str,
    pages: dict[str, int],
) -> list:
    heading = f"{number}. {section.title()}"
    parts: list = [
        PageBreak(),
        _Anchor(section.key, heading, pages),
        paragraph(heading, "heading"),
        paragraph(f"{_('Check')}: {verdict_text(verdict)}"),
        paragraph(verdict.why, "small"),
    ]
    if verdict.missing:
        parts.append(paragraph(_("Missing:"), "text"))
        parts.append(paragraph("\n".join(f"• {item}" for item in verdict.missing), "text"))
    parts.append(Spacer(1, 3 * mm))
    rows = RECORDS[section.rule](snapshot, copy)
    if len(rows) > 1:
        parts.append(table(rows))
    else:
        parts.append(paragraph(_("No records."), "small"))
    if section.rule in MORE_RECORDS:
        more, title = MORE_RECORDS[section.rule]
        rows = more(snapshot, copy)
        if len(rows) > 1:
            parts += [Spacer(1, 3 * mm), paragraph(str(title), "text"), table(rows)]
    return parts


def _layout(story: list, info: FileInfo, total: int | None, title: str) -> tuple[bytes, int]:
    font = register_font()
    footer = Footer(info.generated_by, info.generated_at)
    buffer = io.BytesIO()
    # Starts in the CJK font: reportlab's default (Helvetica) is never embedded.
    document = document_template(
        buffer, title=title, author=info.generated_by, bottom_margin=MARGIN + 4 * mm
    )

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, 10 * mm, footer.left())
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, page_of(doc.page, total if total else "…"))
        canvas.restoreState()

    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue(), document.page


def _pdf_evidence(
    snapshot: Snapshot, evidence: Mapping[int, Evidence]
) -> list[tuple[AbsenceRecord, Evidence]]:
    return [
        (a, evidence[a.absence_id])
        for a in snapshot.absences
        if a.absence_id in evidence and evidence[a.absence_id].kind == PDF_KIND
    ]


def _attachment_pages(first_page: int, attached: list[tuple[AbsenceRecord, Evidence]]):
    pages, at = {}, first_page
    for absence, item in attached:
        pages[_evidence_key(absence.absence_id)] = at
        at += item.pages
    return pages


def _append_evidence(
    pdf: bytes,
    attached: list[tuple[AbsenceRecord, Evidence]],
    info: FileInfo,
    first_page: int,
    total: int,
) -> bytes:
    """``pdf`` with the pages of each PDF evidence after it: each page shrunk into the frame
    of an A4 page that carries the evidence's caption, the footer and "page x / y", and one
    bookmark per evidence file."""
    font = register_font()
    footer = Footer(info.generated_by, info.generated_at)
    width, height = A4
    box_top = height - MARGIN - 8 * mm
    box_bottom = MARGIN + 4 * mm
    # Captions and footers first, one page per appended page, in the embedded font.
    overlay = io.BytesIO()
    canvas = Canvas(overlay, pagesize=A4, initialFontName=font)
    number = first_page
    for absence, item in attached:
        caption = evidence_caption(absence, item)
        for index in range(item.pages):
            canvas.setFont(font, 9)
            canvas.drawString(
                MARGIN,
                height - MARGIN,
                f"{caption} ({index + 1}/{item.pages})",
            )
            canvas.setFont(font, 8)
            canvas.setFillColor(colors.grey)
            canvas.drawString(MARGIN, 10 * mm, footer.left())
            canvas.drawRightString(width - MARGIN, 10 * mm, page_of(number, total))
            canvas.showPage()
            number += 1
    canvas.save()
    overlays = PdfReader(io.BytesIO(overlay.getvalue())).pages

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    at = 0
    for absence, item in attached:
        outline_page = len(writer.pages)
        for source in PdfReader(io.BytesIO(item.data)).pages:
            page = writer.add_page(source)
            page.transfer_rotation_to_content()
            box = page.cropbox
            w, h = float(box.width), float(box.height)
            scale = min((width - 2 * MARGIN) / w, (box_top - box_bottom) / h)
            dx = MARGIN + ((width - 2 * MARGIN) - w * scale) / 2 - float(box.left) * scale
            dy = box_top - h * scale - float(box.bottom) * scale
            page.add_transformation(Transformation().scale(scale).translate(dx, dy))
            page.mediabox = page.cropbox = RectangleObject((0, 0, width, height))
            for name in ("/TrimBox", "/BleedBox", "/ArtBox"):
                page.pop(name, None)
            page.pop("/Annots", None)  # links of the evidence would point at the wrong place
            page.merge_page(overlays[at])
            at += 1
        writer.add_outline_item(title=evidence_caption(absence, item), page_number=outline_page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_copy(
    snapshot: Snapshot,
    catalogue: CatalogueDef,
    verdicts: dict[str, Verdict],
    copy: str,
    info: FileInfo,
    evidence: Mapping[int, Evidence] | None = None,
) -> bytes:
    """The PDF of one copy of the file, with ``evidence`` (absence id → its evidence, from
    ``dossiers.evidence.load_evidence``) attached. Whole or nothing: bytes are returned only
    once the document is laid out in full."""
    register_font()
    evidence = evidence or {}
    attached = _pdf_evidence(snapshot, evidence)
    extra = sum(item.pages for _absence, item in attached)
    title = f"{_('Education and assistance file')} {snapshot.case_number}"

    def story(pages: dict[str, int], known: dict[str, int]) -> list:
        return _story(snapshot, catalogue, verdicts, copy, info, pages, known, evidence)

    # The first pass only learns where the pages break: photos keep their size, not their data.
    sketch = {
        k: dataclasses.replace(v, data=b"") if v.kind == IMAGE else v for k, v in evidence.items()
    }
    first: dict[str, int] = {}
    _pdf, laid_out = _layout(
        _story(snapshot, catalogue, verdicts, copy, info, first, {}, sketch), info, None, title
    )
    for _attempt in range(3):
        pages: dict[str, int] = {}
        known = {**first, **_attachment_pages(laid_out + 1, attached)}
        pdf, new_laid_out = _layout(story(pages, known), info, laid_out + extra, title)
        if pages == first and new_laid_out == laid_out:
            break
        first, laid_out = pages, new_laid_out
    if attached:
        pdf = _append_evidence(pdf, attached, info, laid_out + 1, laid_out + extra)
    return pdf
