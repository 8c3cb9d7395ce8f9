"""File downloads of personal data: always an attachment, never cached; one formula-safe
writer for CSV and Excel tables.

Every CSV or spreadsheet the project writes goes through ``spreadsheet_safe``: ``csv_text``
and ``csv_stream`` (CSV), ``xlsx_bytes`` and ``lib.xlsx.fast_rows`` (Excel), and Wagtail's
own exports (``audit.wagtail_exports``). ``tests/security/test_export_formulas.py`` walks
every export URL with hostile text in every field that reaches it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def attachment(content, content_type: str, filename: str) -> HttpResponse:
    """``content`` is bytes/str, or an iterator for a streamed response."""
    if isinstance(content, bytes | str):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# Text a spreadsheet would run as a formula (CSV/xlsx injection) starts with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe; other values
    pass unchanged. Every CSV or Excel export cell goes through this."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Rows = Iterable[Sequence[object]]


def csv_text(rows: Rows) -> str:
    """Rows as CSV text with a byte-order mark (so that Excel reads the Chinese correctly),
    every cell through ``spreadsheet_safe``. Cells are written as ``csv`` writes them: format
    dates and durations before."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return "\ufeff" + buffer.getvalue()


class _Line:
    """A file-like ``write`` that hands the line back, for ``csv.writer`` in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Rows) -> Iterator[str]:
    """``csv_text`` a row at a time, for a ``StreamingHttpResponse`` (``attachment`` with an
    iterator): the byte-order mark, then one line per row, every cell through
    ``spreadsheet_safe``."""
    writer = csv.writer(_Line())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def xlsx_bytes(sheets: Mapping[str, Rows]) -> bytes:
    """An Excel workbook with one sheet per ``{title: rows}`` item (titles cut to Excel's 31
    characters). Text goes through ``spreadsheet_safe`` and is stored as text, never as a
    formula; dates, times and durations keep their type with a readable number format."""
    book = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title=str(title)[:31])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value: object) -> WriteOnlyCell:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        # A control character (NUL…) cannot be stored in a workbook: shown as "�", not a 500.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=spreadsheet_safe(value))
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, dt.timedelta):
        cell.number_format = "[h]:mm"
    return cell
