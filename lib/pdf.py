"""Small PDF builder with Chinese text (reportlab's built-in ``STSong-Light`` CID font, so no
font file ships with the project). Modules describe a document as blocks and get bytes back.

    pdf_document("Title", [("heading", "Section"), ("text", "…"), ("table", [[...], ...])])

Formal documents (reports) add a ``Footer``: every page then carries who generated it and
when, and "page x of y". ``table``, ``paragraph``, ``bar_chart`` and ``line_chart`` build
flowables for documents laid out by hand (``plans.pdf``) or passed as ``("flowable", …)``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CJK_FONT = "STSong-Light"
MARGIN = 18 * mm
# Chart colours: one per series, readable when printed in grey.
PALETTE = ("#2f6f9f", "#d98c1f", "#5a9e4b", "#a23b3b", "#6b5b95")

Block = tuple[str, object]


@cache
def register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6),
        "heading": ParagraphStyle(
            "heading", fontName=font, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4
        ),
        "text": ParagraphStyle("text", fontName=font, fontSize=10, leading=15, wordWrap="CJK"),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK"),
        "small": ParagraphStyle(
            "small", fontName=font, fontSize=8, leading=11, textColor=colors.grey, wordWrap="CJK"
        ),
    }


def paragraph(text: object, style: str = "text") -> Paragraph:
    """Escaped text in one of the styles (title, heading, text, cell, small); newlines kept."""
    lines = escape(str(text)).split("\n")
    return Paragraph("<br/>".join(lines), _styles()[style])


def table(
    rows: Sequence[Sequence[object]],
    *,
    widths: Sequence[float] | None = None,
    wrap: bool | Collection[int] = True,
    style: str = "text",
) -> Table:
    """A grid with a shaded header row repeated on every page. Cells in wrapped columns (all,
    with ``wrap=True``, or the indexes given) become paragraphs that break long text; the
    others are drawn as one line, which lays out many times faster for short values."""
    font_size = _styles()[style].fontSize

    def cell(index: int, value: object) -> object:
        text = "" if value is None else value
        if wrap is True or (wrap is not False and index in wrap):
            return paragraph(text, style)
        return str(text)

    cells = [[cell(i, value) for i, value in enumerate(row)] for row in rows]
    result = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    result.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), register_font()),
                ("FONTSIZE", (0, 0), (-1, -1), font_size),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return result


# --- Footer: generated at / by, page x of y -------------------------------------------------


@dataclass(frozen=True)
class Footer:
    """What a formal document states at the foot of every page."""

    generated_by: str
    generated_at: dt.datetime
    label: str = ""  # e.g. the report's name, centred

    def left(self) -> str:
        when = timezone.localtime(self.generated_at).strftime("%Y-%m-%d %H:%M")
        return _("Generated %(when)s by %(who)s") % {"when": when, "who": self.generated_by}


def page_of(page: int, pages: int) -> str:
    # Its own msgid: the catalogue's "Page %(page)s of %(pages)s" reads "第 x / y 页", and a
    # formal report says "第 x 页 / 共 y 页".
    return _("page %(page)s / %(pages)s") % {"page": page, "pages": pages}


class _FooterCanvas(Canvas):
    """Keeps each finished page until the end, when the page count is known, then draws the
    footer on every page: one layout pass, not two."""

    def __init__(self, *args, footer: Footer, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width = self._pagesize[0]
        self.saveState()
        self.setFont(CJK_FONT, 8)
        self.setFillColor(colors.grey)
        y = 10 * mm
        self.drawString(MARGIN, y, self._footer.left())
        if self._footer.label:
            self.drawCentredString(width / 2, y - 4 * mm, self._footer.label)
        self.drawRightString(width - MARGIN, y, page_of(number, total))
        self.restoreState()


def pdf_document(
    title: str,
    blocks: Iterable[Block],
    *,
    author: str = "",
    footer: Footer | None = None,
    pagesize: tuple[float, float] = A4,
) -> bytes:
    """Render ``blocks`` to PDF bytes: ("heading"|"text"|"small", str), ("table", rows),
    ("flowable", a reportlab flowable such as ``table(...)`` or a chart), ("spacer", height in
    mm) or ("page_break", None). Text is escaped; table cells may hold any value (shown with
    ``str``). With ``footer``, every page shows who generated it, when, and "page x of y"."""
    register_font()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + (4 * mm if footer else 0),
        title=title,
        author=author or (footer.generated_by if footer else ""),
    )
    story: list = [paragraph(title, "title")]
    for kind, content in blocks:
        if kind == "table":
            story.append(table(content))
            story.append(Spacer(1, 4 * mm))
        elif kind == "flowable":
            story.append(content)
            if isinstance(content, Table | Drawing):
                story.append(Spacer(1, 4 * mm))
        elif kind == "spacer":
            story.append(Spacer(1, float(content) * mm))
        elif kind == "page_break":
            story.append(PageBreak())
        else:
            story.append(paragraph(content, kind))
    if footer is None:
        document.build(story)
    else:
        document.build(story, canvasmaker=partial(_FooterCanvas, footer=footer))
    return buffer.getvalue()


# --- Charts (reportlab.graphics shapes: vector, no image libraries) -------------------------
# Drawn from plain shapes rather than reportlab's chart widgets, which validate every
# attribute and cost ~20 ms per chart: a thousand office reports must take seconds.

CHART_WIDTH = 170 * mm
CHART_HEIGHT = 62 * mm
_AXIS = colors.HexColor("#888888")
_GRID = colors.HexColor("#dddddd")


def _frame(
    title: str, labels: Sequence[str], value_max: float, width: float, height: float
) -> tuple[Drawing, float, float, float, float]:
    """The drawing, its title, value grid and axis; returns (drawing, x, y, plot width, plot
    height) of the plot area."""
    font = register_font()
    drawing = Drawing(width, height)
    slanted = len(labels) > 8 or max((len(str(label)) for label in labels), default=0) > 8
    x, y = 28.0, 42.0 if slanted else 16.0
    top = 16.0 if title else 6.0
    plot_w, plot_h = width - x - 6, height - y - top
    if title:
        drawing.add(String(0, height - 10, title, fontName=font, fontSize=9))
    for step in range(5):
        value = value_max * step / 4
        level = y + plot_h * step / 4
        drawing.add(Line(x, level, x + plot_w, level, strokeColor=_GRID, strokeWidth=0.4))
        drawing.add(
            String(x - 3, level - 2.5, f"{value:.0f}", fontName=font, fontSize=7, textAnchor="end")
        )
    drawing.add(Line(x, y, x + plot_w, y, strokeColor=_AXIS, strokeWidth=0.6))
    slot = plot_w / max(1, len(labels))
    for index, label in enumerate(labels):
        centre = x + slot * (index + 0.5)
        if slanted:
            group = Group(
                String(0, 0, str(label)[:14], fontName=font, fontSize=7, textAnchor="end")
            )
            group.transform = (0.866, 0.5, -0.5, 0.866, centre + 2, y - 4)  # 30° slant
            drawing.add(group)
        else:
            drawing.add(
                String(centre, y - 10, str(label), fontName=font, fontSize=7, textAnchor="middle")
            )
    return drawing, x, y, plot_w, plot_h


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    value_max: float = 100,
    width: float = CHART_WIDTH,
    height: float = CHART_HEIGHT,
) -> Drawing:
    """Vertical bars (e.g. participation rate in % by office), each labelled with its value.
    Many or long labels are slanted so they stay readable."""
    drawing, x, y, plot_w, plot_h = _frame(title, labels, value_max, width, height)
    font = register_font()
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.6
    fill = colors.HexColor(PALETTE[0])
    for index, value in enumerate(values):
        value = max(0.0, min(float(value), value_max))
        left = x + slot * index + (slot - bar) / 2
        tall = plot_h * value / value_max
        drawing.add(Rect(left, y, bar, tall, fillColor=fill, strokeColor=None))
        drawing.add(
            String(
                left + bar / 2,
                y + tall + 2,
                f"{value:.0f}",
                fontName=font,
                fontSize=6,
                textAnchor="middle",
            )
        )
    return drawing


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str = "",
    value_max: float = 100,
    width: float = CHART_WIDTH,
    height: float = CHART_HEIGHT,
) -> Drawing:
    """One line per series over ``labels`` (e.g. months), with a legend beside the title;
    ``None`` leaves a gap (a month without data)."""
    drawing, x, y, plot_w, plot_h = _frame(title, labels, value_max, width, height)
    font = register_font()
    slot = plot_w / max(1, len(labels))
    legend_x = width
    for number, (name, values) in enumerate(reversed(list(series.items()))):
        colour = colors.HexColor(PALETTE[(len(series) - 1 - number) % len(PALETTE)])
        legend_x -= 8 + 7 * len(str(name)) + 14
        drawing.add(Rect(legend_x, height - 9, 8, 6, fillColor=colour, strokeColor=None))
        drawing.add(String(legend_x + 11, height - 9, str(name), fontName=font, fontSize=7))
        run: list[float] = []
        for index, value in enumerate([*values, None]):
            if value is None:
                if len(run) >= 4:
                    drawing.add(PolyLine(run, strokeColor=colour, strokeWidth=1.4))
                run = []
                continue
            value = max(0.0, min(float(value), value_max))
            px, py = x + slot * (index + 0.5), y + plot_h * value / value_max
            run += [px, py]
            drawing.add(Circle(px, py, 1.6, fillColor=colour, strokeColor=None))
    return drawing
