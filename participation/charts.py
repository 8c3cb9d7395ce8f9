"""Participation charts as SVG, drawn on the server (no JavaScript, nothing from a CDN).

Accessible: each chart has a ``<title>`` and ``<desc>`` (``role="img"``), every value is
written as text beside its mark, and colour is never the only carrier of a number. All text
is escaped; the result is safe to insert into a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

FONT = 'font-family="sans-serif" font-size="12"'
# Rate bands, best first: (lowest rate, fill, label colour). Colours pass 4.5:1 with the label.
BANDS = (
    (100.0, "#1a7f37", "#ffffff"),
    (95.0, "#8fd19e", "#0b2e13"),
    (85.0, "#ffe08a", "#3d2e00"),
    (70.0, "#f5a55c", "#3d1a00"),
    (0.0, "#d1242f", "#ffffff"),
)
EMPTY = ("#eaeef2", "#57606a")
# The month still running: its rate so far is no verdict (deadlines are still ahead), so it is
# drawn in a neutral colour and named as in progress instead of being banded.
IN_PROGRESS = ("#ddf4ff", "#0a3069")


@dataclass(frozen=True)
class Point:
    label: str  # "2026-03"
    rate: float | None  # percent, None when nobody was counted
    complete: int = 0
    persons: int = 0
    in_progress: bool = False  # the current month: a figure so far, not a result


def band(rate: float | None) -> tuple[str, str]:
    """(fill, text colour) for a rate."""
    if rate is None:
        return EMPTY
    for lowest, fill, ink in BANDS:
        if rate >= lowest:
            return fill, ink
    return BANDS[-1][1:]


def colours(point: Point) -> tuple[str, str]:
    """(fill, text colour) for a point: neutral while its month is in progress."""
    if point.in_progress and point.rate is not None:
        return IN_PROGRESS
    return band(point.rate)


def _fmt(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:g}%"


def _svg(ident: str, width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{ident}-title {ident}-desc" {FONT}>'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped


def trend_svg(
    points: Sequence[Point], title: str, no_data: str = "", in_progress: str = ""
) -> SafeString:
    """A line of the participation rate per month (0–100 %), each point labelled with its
    rate and "complete/persons"; a month in progress is drawn neutral, joined by a dashed
    line and named ``in_progress`` under its month."""
    # ``top`` leaves room for the label above a 100 % point.
    left, right, top, bottom = 44, 16, 32, 70
    step = 64
    width = left + right + step * max(len(points), 1)
    height = 260
    plot_h = height - top - bottom

    def y(rate: float) -> float:
        return top + plot_h * (1 - rate / 100)

    body: list[str] = []
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#57606a">'
            f"{tick}%</text>"
        )
    coords: list[tuple[str, bool]] = []
    for i, point in enumerate(points):
        x = left + step * i + step / 2
        body.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="#24292f">'
            f"{escape(point.label)}</text>"
        )
        if point.rate is None:
            body.append(
                f'<text x="{x:.1f}" y="{y(0) - 6:.1f}" text-anchor="middle" fill="#57606a">'
                f"{escape(no_data or '–')}</text>"
            )
            continue
        coords.append((f"{x:.1f},{y(point.rate):.1f}", point.in_progress))
        fill, _ink = colours(point)
        if point.in_progress:
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 50}" text-anchor="middle" '
                f'fill="{IN_PROGRESS[1]}" font-size="10">{escape(in_progress)}</text>'
            )
        body.append(
            f'<circle cx="{x:.1f}" cy="{y(point.rate):.1f}" r="5" fill="{fill}" '
            f'stroke="#24292f" stroke-width="1"><title>{escape(point.label)}: '
            f"{_fmt(point.rate)} ({point.complete}/{point.persons})</title></circle>"
            f'<text x="{x:.1f}" y="{y(point.rate) - 10:.1f}" text-anchor="middle" '
            f'fill="#24292f" font-weight="bold">{_fmt(point.rate)}</text>'
            f'<text x="{x:.1f}" y="{height - bottom + 34}" text-anchor="middle" '
            f'fill="#57606a" font-size="10">{point.complete}/{point.persons}</text>'
        )
    lines = []
    finished = [xy for xy, running in coords if not running]
    if len(finished) > 1:
        lines.append(
            f'<polyline points="{" ".join(finished)}" fill="none" stroke="#0969da" '
            f'stroke-width="2"/>'
        )
    for (a, a_running), (b, b_running) in zip(coords, coords[1:], strict=False):
        if a_running or b_running:
            lines.append(
                f'<polyline points="{a} {b}" fill="none" stroke="#0969da" stroke-width="2" '
                f'stroke-dasharray="4 4"/>'
            )
    body[5:5] = lines  # under the points, above the grid

    def described(p: Point) -> str:
        running = f" {in_progress}" if p.in_progress and in_progress else ""
        return f"{p.label}{running}: {_fmt(p.rate)} ({p.complete}/{p.persons})"

    desc = "; ".join(described(p) for p in points)
    return _svg("trend", width, height, title, desc, body)


def heatmap_svg(
    rows: Sequence[tuple[str, Sequence[Point]]],
    months: Sequence[str],
    title: str,
    in_progress: str = "",
) -> SafeString:
    """Offices down, months across; each cell coloured by its rate and showing the number;
    cells of a month in progress are neutral, and the legend names them ``in_progress``."""
    label_w, cell_w, cell_h, top = 150, 58, 28, 30
    legend_w = 64 * len(BANDS) + (18 + 12 * len(in_progress) + 8 if in_progress else 0)
    width = max(label_w + cell_w * max(len(months), 1) + 10, label_w + legend_w)
    height = top + cell_h * max(len(rows), 1) + 50
    body: list[str] = []
    for j, month in enumerate(months):
        x = label_w + cell_w * j + cell_w / 2
        body.append(
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" fill="#24292f">'
            f"{escape(month)}</text>"
        )
    for i, (name, cells) in enumerate(rows):
        y = top + cell_h * i
        body.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#24292f">{escape(name[:14])}</text>'
        )
        for j, point in enumerate(cells):
            x = label_w + cell_w * j
            fill, ink = colours(point)
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"><title>{escape(name)} {escape(point.label)}'
                f"{escape(' ' + in_progress if point.in_progress and in_progress else '')}: "
                f"{_fmt(point.rate)} ({point.complete}/{point.persons})</title></rect>"
                f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4:.1f}" '
                f'text-anchor="middle" fill="{ink}">{_fmt(point.rate)}</text>'
            )
    # Legend: each band's colour with its range written out.
    y = top + cell_h * max(len(rows), 1) + 16
    x = label_w
    ranges = ["100%", "≥95%", "≥85%", "≥70%", "<70%"]
    for (_lowest, fill, _ink), text in zip(BANDS, ranges, strict=True):
        body.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{fill}" stroke="#57606a"/>'
            f'<text x="{x + 18}" y="{y + 11}" fill="#24292f">{escape(text)}</text>'
        )
        x += 64
    if in_progress:
        fill, _ink = IN_PROGRESS
        body.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{fill}" stroke="#57606a"/>'
            f'<text x="{x + 18}" y="{y + 11}" fill="#24292f">{escape(in_progress)}</text>'
        )
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{p.label} {_fmt(p.rate)}" for p in cells) for name, cells in rows
    )
    return _svg("heatmap", width, height, title, desc, body)
