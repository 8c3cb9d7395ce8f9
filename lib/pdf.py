"""Small PDF builder with Chinese text (reportlab's built-in ``STSong-Light`` CID font, so no
font file ships with the project). Modules describe a document as blocks and get bytes back.

    pdf_document("Title", [("heading", "Section"), ("text", "…"), ("table", [[...], ...])])
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CJK_FONT = "STSong-Light"

Block = tuple[str, object]


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _register_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6),
        "heading": ParagraphStyle(
            "heading", fontName=font, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4
        ),
        "text": ParagraphStyle("text", fontName=font, fontSize=10, leading=15, wordWrap="CJK"),
        "small": ParagraphStyle(
            "small", fontName=font, fontSize=8, leading=11, textColor=colors.grey, wordWrap="CJK"
        ),
    }


def _paragraph(text: object, style: str) -> Paragraph:
    lines = escape(str(text)).split("\n")
    return Paragraph("<br/>".join(lines), _styles()[style])


def pdf_document(title: str, blocks: Iterable[Block], *, author: str = "") -> bytes:
    """Render ``blocks`` — ("heading"|"text"|"small", str) or ("table", rows) — to PDF bytes.
    Text is escaped; table cells may hold any value (shown with ``str``)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
    )
    story: list = [_paragraph(title, "title")]
    for kind, content in blocks:
        if kind == "table":
            story.append(_table(content))
            story.append(Spacer(1, 4 * mm))
        else:
            story.append(_paragraph(content, kind))
    document.build(story)
    return buffer.getvalue()


def _table(rows: Sequence[Sequence[object]]) -> Table:
    cells = [[_paragraph("" if value is None else value, "text") for value in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
