"""Small PDF builder with Chinese text, and the one place that chooses the PDFs' font. Modules
describe a document as blocks and get bytes back.

    pdf_document("Title", [("heading", "Section"), ("text", "…"), ("table", [[...], ...])])

The font is a TrueType CJK font (``settings.PDF_FONT``: WenQuanYi Micro Hei from Debian's
``fonts-wqy-microhei`` by default, Apache 2.0), embedded as a subset of the glyphs each document
uses: the document then looks the same in every reader and can be archived. Without that
file, documents fall back to reportlab's ``STSong-Light`` CID font, which is not embedded (the
reader's own fonts draw it; poppler shows "·" as a box), and ``manage.py check`` warns
(``lib.W001``). Every producer takes its font from ``register_font()``.

Formal documents (reports) add a ``Footer``: every page then carries who generated it and
when, and "page x of y". ``table``, ``grid`` (a faster table of plain text, drawn on the
canvas), ``paragraph``, ``bar_chart`` and ``line_chart`` build flowables for documents laid
out by hand (``plans.pdf``) or passed as ``("flowable", …)``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

FALLBACK_FONT = "STSong-Light"
FONT_CHECK_ID = "lib.W001"
MARGIN = 18 * mm
# Chart colours: one per series, readable when printed in grey.
PALETTE = ("#2f6f9f", "#d98c1f", "#5a9e4b", "#a23b3b", "#6b5b95")

Block = tuple[str, object]


logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _load_font(path: str) -> TTFont | str:
    """The TrueType font at ``path`` (the first face of a collection), or why it cannot be
    used. Read once per process (about 0.2 s); forked workers inherit it."""
    try:
        # Named after the file, so fonts read from two paths never share a name.
        return TTFont(f"CJK-{Path(path).stem}", path, subfontIndex=0)
    except (OSError, TTFError) as error:
        # TTFError: not a font, or CFF outlines (OpenType .otf, Noto CJK), which reportlab
        # cannot embed.
        return f"{error}"


def font_problem() -> str | None:
    """Why PDFs cannot embed their font (``settings.PDF_FONT``), or ``None``."""
    path = settings.PDF_FONT
    loaded = _load_font(path)
    if isinstance(loaded, TTFont):
        return None
    return (
        f"The PDF font {path!r} cannot be used ({loaded}): PDFs fall back to the non-embedded "
        f"{FALLBACK_FONT} font, whose look depends on the reader and which cannot be archived. "
        "Install it with `apt-get install fonts-wqy-microhei` (or `make browser-deps`), or set "
        "PDF_FONT to a TrueType-outline CJK font (.ttf or .ttc)."
    )


@cache
def _register(path: str) -> str:
    loaded = _load_font(path)
    if isinstance(loaded, TTFont):
        pdfmetrics.registerFont(loaded)
        return loaded.fontName
    logger.warning("%s", font_problem())
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def register_font() -> str:
    """The name of the font every PDF draws its text with, registered with reportlab: the
    embedded TrueType font, or ``STSong-Light`` when it is missing (logged once)."""
    return _register(settings.PDF_FONT)


def _styles() -> dict[str, ParagraphStyle]:
    return _styles_for(register_font())


@cache
def _styles_for(font: str) -> dict[str, ParagraphStyle]:
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


def side_by_side(flowables: Sequence[Flowable], widths: Sequence[float]) -> Table:
    """Flowables (e.g. two charts) in one row, without lines. Its font is set, though no cell
    holds text: a platypus Table sets its font (Helvetica, never embedded) for every cell."""
    result = Table([list(flowables)], colWidths=list(widths), hAlign="LEFT")
    result.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), register_font())]))
    return result


# --- Grid: a table drawn straight on the canvas -------------------------------------------

_HEADER_FILL = colors.HexColor("#eef2f5")
_PAD_X, _PAD_Y = 6.0, 3.0  # reportlab's Table paddings, so both look alike
# Line breaks: between CJK characters, at spaces, and inside a Latin word only if it is
# longer than the column.
_TOKENS = re.compile(r"\s+|[0-9A-Za-z_.,:;!?%()\[\]'\"/+\-=*&#@<>]+|.", re.S)


def _wrap_text(text: str, width: float, font: str, size: float) -> list[str]:
    lines: list[str] = []
    for part in text.split("\n"):
        line, used = "", 0.0
        for token in _TOKENS.findall(part):
            wide = pdfmetrics.stringWidth(token, font, size)
            if used + wide <= width or not line.strip():
                if wide > width and not token.isspace():
                    # A run longer than the column: break it by characters.
                    for char in token:
                        char_w = pdfmetrics.stringWidth(char, font, size)
                        if used + char_w > width and line:
                            lines.append(line.rstrip())
                            line, used = "", 0.0
                        line, used = line + char, used + char_w
                    continue
                line, used = line + token, used + wide
            elif token.isspace():
                lines.append(line.rstrip())
                line, used = "", 0.0
            else:
                lines.append(line.rstrip())
                line, used = token, wide
        lines.append(line.rstrip())
    return lines


class Grid(Flowable):
    """What ``table`` draws (a grid, a shaded header row repeated on every page, long text
    broken in the ``wrap`` columns), drawn straight on the canvas: one path for the lines and
    one text object for all the cells, a few times faster than a platypus ``Table`` with
    ``Paragraph`` cells. Cells are plain text (no markup)."""

    def __init__(
        self,
        rows: Sequence[Sequence[object]],
        widths: Sequence[float],
        wrap: Collection[int] = (),
        style: str = "cell",
    ):
        super().__init__()
        paragraph_style = _styles()[style]
        self.font, self.size = paragraph_style.fontName, paragraph_style.fontSize
        self.leading = paragraph_style.leading
        self.widths = list(widths)
        self.cells = [
            [
                _wrap_text(str(v), w - 2 * _PAD_X, self.font, self.size)
                if i in wrap
                else str(v).split("\n")
                for i, (v, w) in enumerate(
                    zip(["" if v is None else v for v in row], self.widths, strict=True)
                )
            ]
            for row in rows
        ]
        self.heights = [
            max((len(cell) for cell in row), default=1) * self.leading + 2 * _PAD_Y
            for row in self.cells
        ]
        self.width = sum(self.widths)
        self.height = sum(self.heights)
        self.hAlign = "LEFT"

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def split(self, avail_width, avail_height):
        used, fits = self.heights[0], 1
        while fits < len(self.heights) and used + self.heights[fits] <= avail_height:
            used += self.heights[fits]
            fits += 1
        if fits < 2 or fits == len(self.heights):
            return []
        head = [self.cells[0]], [self.heights[0]]
        return [
            self._part(self.cells[:fits], self.heights[:fits]),
            # The header again on the next page.
            self._part(head[0] + self.cells[fits:], head[1] + self.heights[fits:]),
        ]

    def _part(self, cells: list, heights: list[float]) -> Grid:
        part = Grid([], self.widths)
        part.font, part.size, part.leading = self.font, self.size, self.leading
        part.cells, part.heights, part.height = cells, heights, sum(heights)
        return part

    def draw(self):
        canvas = self.canv
        top = self.height
        canvas.saveState()
        canvas.setFillColor(_HEADER_FILL)
        canvas.rect(0, top - self.heights[0], self.width, self.heights[0], stroke=0, fill=1)
        path = canvas.beginPath()
        y = top
        for height in [0.0, *self.heights]:
            y -= height
            path.moveTo(0, y)
            path.lineTo(self.width, y)
        x = 0.0
        for width in [0.0, *self.widths]:
            x += width
            path.moveTo(x, 0)
            path.lineTo(x, top)
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.4)
        canvas.drawPath(path, stroke=1, fill=0)
        text = canvas.beginText()
        text.setFont(self.font, self.size, self.leading)
        text.setFillColor(colors.black)
        y = top
        for row, height in zip(self.cells, self.heights, strict=True):
            x = 0.0
            for lines, width in zip(row, self.widths, strict=True):
                # Platypus puts the first baseline one font size below the padding.
                baseline = y - _PAD_Y - self.size
                for line in lines:
                    if line:
                        text.setTextOrigin(x + _PAD_X, baseline)
                        text.textOut(line)
                    baseline -= self.leading
                x += width
            y -= height
        canvas.drawText(text)
        canvas.restoreState()


def grid(
    rows: Sequence[Sequence[object]],
    *,
    widths: Sequence[float],
    wrap: Collection[int] = (),
    style: str = "cell",
) -> Grid:
    """``table``'s look, drawn faster (``Grid``): for long generated tables of plain text."""
    return Grid(rows, widths, wrap, style)


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
        self.setFont(register_font(), 8)
        self.setFillColor(colors.grey)
        y = 10 * mm
        self.drawString(MARGIN, y, self._footer.left())
        if self._footer.label:
            self.drawCentredString(width / 2, y - 4 * mm, self._footer.label)
        self.drawRightString(width - MARGIN, y, page_of(number, total))
        self.restoreState()


def document_template(
    buffer: io.BytesIO,
    *,
    title: str,
    author: str = "",
    pagesize: tuple[float, float] = A4,
    bottom_margin: float = MARGIN,
) -> SimpleDocTemplate:
    """A page template with the house margins whose canvas starts in the CJK font: reportlab's
    default first font (Helvetica, never embedded) would otherwise be listed in every file."""
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=bottom_margin,
        title=title,
        author=author,
        initialFontName=register_font(),
    )


def pdf_canvas(
    buffer: io.BytesIO, *, title: str, author: str = "", pagesize: tuple[float, float] = A4
) -> Canvas:
    """A bare canvas for a page drawn by hand (a certificate), starting in the CJK font."""
    canvas = Canvas(buffer, pagesize=pagesize, initialFontName=register_font())
    canvas.setTitle(title)
    canvas.setAuthor(author)
    return canvas


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
    buffer = io.BytesIO()
    document = document_template(
        buffer,
        title=title,
        author=author or (footer.generated_by if footer else ""),
        pagesize=pagesize,
        bottom_margin=MARGIN + (4 * mm if footer else 0),
    )
    story: list = [paragraph(title, "title")]
    for kind, content in blocks:
        if kind == "table":
            story.append(table(content))
            story.append(Spacer(1, 4 * mm))
        elif kind == "flowable":
            story.append(content)
            if isinstance(content, Table | Grid | Drawing):
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


class _Chart(Drawing):
    """A chart's drawing, drawn by a short walk over the few shapes the charts use (strings,
    lines, rectangles, circles, polylines, groups) instead of renderPDF's general one, which
    saves and restores the graphics state around every shape: about three times faster.
    Any other shape is left to renderPDF."""

    def draw(self, showBoundary=None):  # noqa: N803 - reportlab's name
        canvas = self.canv
        canvas.saveState()
        _draw_shapes(canvas, self.contents)
        canvas.restoreState()


_IDENTITY = (1, 0, 0, 1, 0, 0)
_ANCHORED = {"start": "drawString", "middle": "drawCentredString", "end": "drawRightString"}


def _draw_shapes(canvas: Canvas, shapes: Iterable) -> None:
    for shape in shapes:
        kind = type(shape)
        if kind is String:
            canvas.setFont(shape.fontName, shape.fontSize)
            canvas.setFillColor(shape.fillColor)
            getattr(canvas, _ANCHORED[shape.textAnchor])(shape.x, shape.y, shape.text)
        elif kind is Line:
            canvas.setStrokeColor(shape.strokeColor)
            canvas.setLineWidth(shape.strokeWidth)
            canvas.line(shape.x1, shape.y1, shape.x2, shape.y2)
        elif kind is Rect or kind is Circle:
            stroke, fill = shape.strokeColor is not None, shape.fillColor is not None
            if fill:
                canvas.setFillColor(shape.fillColor)
            if stroke:
                canvas.setStrokeColor(shape.strokeColor)
                canvas.setLineWidth(shape.strokeWidth)
            if kind is Rect:
                canvas.rect(shape.x, shape.y, shape.width, shape.height, stroke=stroke, fill=fill)
            else:
                canvas.circle(shape.cx, shape.cy, shape.r, stroke=stroke, fill=fill)
        elif kind is PolyLine:
            points = shape.points
            path = canvas.beginPath()
            path.moveTo(points[0], points[1])
            for index in range(2, len(points), 2):
                path.lineTo(points[index], points[index + 1])
            canvas.setStrokeColor(shape.strokeColor)
            canvas.setLineWidth(shape.strokeWidth)
            canvas.drawPath(path, stroke=1, fill=0)
        elif kind is Group:
            if tuple(shape.transform) == _IDENTITY:
                _draw_shapes(canvas, shape.contents)
            else:
                canvas.saveState()
                canvas.transform(*shape.transform)
                _draw_shapes(canvas, shape.contents)
                canvas.restoreState()
        else:
            renderPDF.draw(Drawing(0, 0, shape), canvas, 0, 0)


def _frame(
    title: str, labels: Sequence[str], value_max: float, width: float, height: float
) -> tuple[Drawing, float, float, float, float]:
    """The drawing, its title, value grid and axis; returns (drawing, x, y, plot width, plot
    height) of the plot area."""
    drawing = _Chart(width, height)
    group, x, y, plot_w, plot_h = _frame_shapes(
        title, tuple(str(label) for label in labels), value_max, width, height, register_font()
    )
    drawing.add(group)
    return drawing, x, y, plot_w, plot_h


@lru_cache(maxsize=64)
def _frame_shapes(
    title: str, labels: tuple[str, ...], value_max: float, width: float, height: float, font: str
) -> tuple[Group, float, float, float, float]:
    """The shapes of ``_frame``, built once per title, labels, size and font: a batch of
    reports shares them (a drawing only reads its shapes when it is rendered)."""
    group = Group()
    slanted = len(labels) > 8 or max((len(label) for label in labels), default=0) > 8
    x, y = 28.0, 42.0 if slanted else 16.0
    top = 16.0 if title else 6.0
    plot_w, plot_h = width - x - 6, height - y - top
    if title:
        group.add(String(0, height - 10, title, fontName=font, fontSize=9))
    for step in range(5):
        value = value_max * step / 4
        level = y + plot_h * step / 4
        group.add(Line(x, level, x + plot_w, level, strokeColor=_GRID, strokeWidth=0.4))
        group.add(
            String(x - 3, level - 2.5, f"{value:.0f}", fontName=font, fontSize=7, textAnchor="end")
        )
    group.add(Line(x, y, x + plot_w, y, strokeColor=_AXIS, strokeWidth=0.6))
    slot = plot_w / max(1, len(labels))
    for index, label in enumerate(labels):
        centre = x + slot * (index + 0.5)
        if slanted:
            slant = Group(String(0, 0, label[:14], fontName=font, fontSize=7, textAnchor="end"))
            slant.transform = (0.866, 0.5, -0.5, 0.866, centre + 2, y - 4)  # 30° slant
            group.add(slant)
        else:
            group.add(String(centre, y - 10, label, fontName=font, fontSize=7, textAnchor="middle"))
    return group, x, y, plot_w, plot_h


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


# --- QR code (reportlab's own encoder: vector, no image library) ----------------------------


def qr_code(value: str, size: float) -> Drawing:
    """A ``size`` × ``size`` QR code of ``value`` (error correction M, the quiet zone inside
    the square), e.g. a verification URL a phone opens."""
    widget = QrCodeWidget(value, barLevel="M", barBorder=2, barWidth=size, barHeight=size)
    drawing = _Chart(size, size)
    # The widget's dark modules, as plain rectangles for the short walker: renderPDF (which
    # would draw the widget's own rectangle class) starts by setting Times-Roman, which is
    # never embedded.
    for module in widget.draw().contents:
        drawing.add(
            Rect(
                module.x,
                module.y,
                module.width,
                module.height,
                fillColor=module.fillColor,
                strokeColor=None,
            )
        )
    return drawing
