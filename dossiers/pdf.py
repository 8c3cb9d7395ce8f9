"""The file as PDF (``render_copy``): a cover, a table of contents whose entries are PDF
bookmarks (the outline) and links, one section per catalogue entry with its completeness
verdict and the records behind it, and on every page who generated it, when, and "page x / y".

The officer's copy leaves out questionnaire answers and scores; the counselor's copy has them.
Pages are laid out twice: the first pass learns on which page each section starts and how
many pages there are, the second prints them (the contents keep their size, so the pages
do not move).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from assessments.models import AssignmentReason, AssignmentStatus
from dossiers.rules import Snapshot, Verdict
from dossiers.schema import CatalogueDef, SectionDef
from lib.pdf import MARGIN, Footer, page_of, paragraph, register_font, table
from live.models import AttendanceStatus
from participation.models import AbsenceStatus, MonthStatus
from plans.models import PlanStatus


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
            row.append("; ".join(f"{code}: {score}" for code, score in q.scores))
            row.append(" ".join(q.answers))
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


def _absence_rows(snapshot: Snapshot, copy: str) -> list[list[object]]:
    rows: list[list[object]] = [[_("Month"), _("Requirement"), _("Decision"), _("Evidence")]]
    rows += [
        [
            f"{a.period:%Y-%m}",
            a.requirement,
            _label(AbsenceStatus, a.status),
            (a.evidence_type or _("file on record")) if a.has_evidence else _("none"),
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
    return story


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
    return parts


def _layout(story: list, info: FileInfo, total: int | None, title: str) -> tuple[bytes, int]:
    font = register_font()
    footer = Footer(info.generated_by, info.generated_at)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author=info.generated_by,
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


def render_copy(
    snapshot: Snapshot,
    catalogue: CatalogueDef,
    verdicts: dict[str, Verdict],
    copy: str,
    info: FileInfo,
) -> bytes:
    """The PDF of one copy of the file. Whole or nothing: bytes are returned only once the
    document is laid out in full."""
    register_font()
    title = f"{_('Education and assistance file')} {snapshot.case_number}"
    first: dict[str, int] = {}
    _pdf, total = _layout(
        _story(snapshot, catalogue, verdicts, copy, info, first, {}), info, None, title
    )
    for _attempt in range(3):
        pages: dict[str, int] = {}
        pdf, new_total = _layout(
            _story(snapshot, catalogue, verdicts, copy, info, pages, first), info, total, title
        )
        if pages == first and new_total == total:
            return pdf
        first, total = pages, new_total
    return pdf
