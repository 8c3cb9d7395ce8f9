"""The monthly participation report as an Excel workbook (person sheets written through
``lib.xlsx.fast_rows``)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable

import pandas as pd
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from lib.downloads import FORMULA_START, spreadsheet_safe
from lib.pdf import Footer
from lib.xlsx import fast_rows
from participation.reports import (
    FIGURES,
    MonthlyReport,
    Progress,
    no_progress,
    person_frame,
    report_title,
)

# --- Excel ------------------------------------------------------------------------------------

_FORBIDDEN_IN_TITLE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def sheet_titles(names: list[str]) -> list[str]:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique."""
    seen: set[str] = set()
    out = []
    for name in names:
        base = str(name).translate(_FORBIDDEN_IN_TITLE)[:31] or "-"
        title, number = base, 2
        while title.lower() in seen:
            suffix = f" ({number})"
            title, number = base[: 31 - len(suffix)] + suffix, number + 1
        seen.add(title.lower())
        out.append(title)
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell through ``spreadsheet_safe`` (only the cells that need it are
    replaced)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            values = frame[column]
            risky = pd.Series(
                [isinstance(v, str) and v.startswith(FORMULA_START) for v in values],
                index=values.index,
                dtype=bool,
            )
            if risky.any():
                frame[column] = values.where(~risky, values[risky].map(spreadsheet_safe))
    return frame


def write_rows(sheet, frame: pd.DataFrame, tick: Callable[[int], None] | None = None) -> None:
    """Append ``frame``'s header and rows (plain tuples; NaN as an empty cell) to a write-only
    sheet; ``tick(n)`` every 2,000."""
    sheet.append([str(column) for column in frame.columns])
    rows = frame.itertuples(index=False, name=None)
    if frame.isna().to_numpy().any():
        rows = ([None if v is None or v != v else v for v in row] for row in rows)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append(row)
        if tick is not None and count % 2000 == 0:
            tick(2000)
    if tick is not None:
        tick(count % 2000)


def monthly_xlsx(report: MonthlyReport, footer: Footer, progress: Progress = no_progress) -> bytes:
    """A summary sheet (by office, by category, who and when), then one sheet per office with
    its persons. Openpyxl's write-only mode: rows stream out, memory stays flat."""
    book = Workbook(write_only=True)
    frame = person_frame(report)
    total = len(frame) + 1
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    summary = book.create_sheet(title=sheet_titles([_("Summary")])[0])
    summary.append([spreadsheet_safe(report_title(report))])
    summary.append([spreadsheet_safe(footer.left())])
    summary.append([])
    # xgettext:no-python-format
    rate_header = _("Rate (%)")
    figure_header = [_("Persons"), _("Met"), _("Excused"), _("At risk"), _("Missed"), rate_header]
    offices = report.offices[["office", *FIGURES, "rate"]].set_axis(
        [_("Office"), *figure_header], axis=1
    )
    write_rows(summary, safe_frame(offices))
    summary.append([])
    categories = report.categories[["label", *FIGURES, "rate"]].set_axis(
        [_("Category"), *figure_header], axis=1
    )
    write_rows(summary, safe_frame(categories))
    tick(1)
    # Other apps' figures (video roll-calls): a sheet each, right after the summary.
    extra_titles = sheet_titles([_("Summary"), *(t.title for t in report.extra_figures)])[1:]
    for table, title in zip(report.extra_figures, extra_titles, strict=True):
        sheet = book.create_sheet(title=title)
        sheet.append([table.title, spreadsheet_safe(report.office.name)])
        if table.is_empty:
            sheet.append([table.empty_text])
        sheet.append(list(table.columns))
        for row in table.rows:
            sheet.append(list(row))
    columns = {
        "case_number": _("Case number"),
        "name": _("Name"),
        "category": _("Category"),
        "status_label": _("Status"),
        "required": _("Requirements"),
        "met": _("Met"),
        "excused": _("Excused"),
        "study_hours": _("Study hours"),
        "quota_hours": _("Quota hours"),
        "missing_text": _("What is missing"),
    }
    if frame.empty:
        return _save(book)
    names = list(dict.fromkeys(frame["office"]))
    taken = [_("Summary"), *extra_titles]
    titles = dict(zip(names, sheet_titles([*taken, *names])[len(taken) :], strict=True))
    # Made safe once for all offices (not per office: pandas costs per call too).
    shown = safe_frame(frame[list(columns)].rename(columns=columns))
    for name, rows in shown.groupby(frame["office"].to_numpy(), sort=False):
        # A person sheet holds only text and numbers: openpyxl's per-cell writer is skipped.
        write_rows(fast_rows(book.create_sheet(title=titles[name])), rows, tick)
    return _save(book)


def _save(book: Workbook) -> bytes:
    """``book.save`` at the fastest deflate level: a file about a fifth larger, deflated in
    a quarter of the time (0.5 → 0.13 s for 100,000 rows)."""
    buffer = io.BytesIO()
    if book.write_only and not book.worksheets:
        book.create_sheet()
    book.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    ExcelWriter(book, archive).save()
    return buffer.getvalue()
