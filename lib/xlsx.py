"""Large Excel sheets through openpyxl's write-only mode, several times faster.

openpyxl's write-only sheet turns every appended value into a cell object and writes it
through lxml's incremental writer: about 10 µs a cell on our machines, so a 100,000-row
report of ten columns spends ten seconds there. ``fast_rows(sheet)`` makes the sheet write
each row of plain values (text, numbers, booleans, ``None``) as XML text of its own, the
same XML openpyxl writes for them (inline strings, numbers with 16 significant digits), at
about 1 µs a cell: each distinct text or number is escaped once per sheet, and the rows go
to a temporary file that is put in place of the empty ``<sheetData>`` openpyxl writes when
the sheet is closed. The workbook, the sheet's other parts, styles and the zip file stay
openpyxl's.

Where openpyxl does not use lxml, or its write-only sheet is not as expected, the sheet is
left as it is (slower, same file).
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from inspect import isgenerator

from openpyxl import xml as openpyxl_xml
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from lib.downloads import spreadsheet_safe

MAX_TEXT = 32767  # Excel's limit; openpyxl cuts longer text the same way
_ILLEGAL = ILLEGAL_CHARACTERS_RE.search
_LETTERS = [get_column_letter(n) for n in range(1, 703)]  # A … ZZ
_EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
_CACHED = 50_000  # distinct values remembered per sheet
_FLUSH = 500  # rows kept in memory before they go to the temporary file


def _text(value: str) -> str:
    """A text cell after its reference: ``' t="inlineStr">…</c>'``; text a spreadsheet would
    run as a formula is neutralised (``spreadsheet_safe``) here too."""
    value = spreadsheet_safe(value)[:MAX_TEXT]
    if _ILLEGAL(value):
        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    text = (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        # A raw carriage return would be read back as a line feed; lxml writes it as this.
        .replace("\r", "&#13;")
    )
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number(value: int | float) -> str:
    if value != value or value in (math.inf, -math.inf):
        return ' t="n"/>'
    return f' t="n"><v>{"%.16g" % value}</v></c>'  # noqa: UP031 - openpyxl's format


def _other(value: object) -> str | None:
    """Any other value's cell after its reference, or ``None`` for an empty cell."""
    if isinstance(value, bool):
        return f' t="b"><v>{value:d}</v></c>'
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):  # a str subclass
        return _text(str(value)) if value != "" else None
    raise TypeError(f"fast_rows takes text, numbers, booleans and None, not {type(value)!r}")


class _Rows:
    """The ``append`` and ``close`` of one fast sheet."""

    def __init__(self, sheet: WriteOnlyWorksheet):
        self.sheet = sheet
        self.close_sheet = sheet.close
        self.file = tempfile.TemporaryFile()
        self.pending: list[str] = []
        self.number = 0
        self.texts: dict[str, str] = {}
        self.numbers: dict[int | float, str] = {}

    def append(self, row) -> None:
        if not isgenerator(row) and not isinstance(row, list | tuple | range):
            self.sheet._invalid_row(row)
        if self.sheet.closed:
            self.sheet._already_saved()
        self.number += 1
        number = str(self.number)
        texts, numbers = self.texts, self.numbers
        parts = [f'<row r="{number}">']
        for column, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                cell = texts.get(value)
                if cell is None:
                    cell = _text(value)
                    if len(texts) < _CACHED:
                        texts[value] = cell
            elif kind is int or kind is float:
                cell = numbers.get(value)
                if cell is None:
                    cell = _number(value)
                    if len(numbers) < _CACHED and value == value:
                        numbers[value] = cell
            elif value is None:
                continue
            else:
                cell = _other(value)
                if cell is None:
                    continue
            parts.append(f'<c r="{_LETTERS[column]}{number}"{cell}')
        parts.append("</row>")
        self.pending.append("".join(parts))
        if len(self.pending) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        self.file.write("".join(self.pending).encode())
        self.pending.clear()

    def close(self) -> None:
        """openpyxl writes the sheet without rows; the rows replace its empty sheetData."""
        self.close_sheet()
        self.flush()
        if self.number:
            path = self.sheet._writer.out
            with open(path, "rb") as source:
                written = source.read()
            empty = _EMPTY_SHEET_DATA.search(written)
            if empty is None:
                raise RuntimeError("fast_rows: no empty <sheetData> in openpyxl's sheet")
            self.file.seek(0)
            with open(path, "wb") as target:
                target.write(written[: empty.start()] + b"<sheetData>")
                shutil.copyfileobj(self.file, target)
                target.write(b"</sheetData>" + written[empty.end() :])
        self.file.close()


def fast_rows(sheet: WriteOnlyWorksheet) -> WriteOnlyWorksheet:
    """``sheet`` (new, nothing appended yet), whose ``append`` now takes rows of text,
    numbers, booleans and ``None`` only (others raise ``TypeError``; empty text is left out
    like ``None``). Text is always stored as text, never as a formula, and goes through
    ``spreadsheet_safe`` like every export's. Returns the sheet."""
    if not (
        openpyxl_xml.LXML
        and isinstance(sheet, WriteOnlyWorksheet)
        and hasattr(sheet, "_get_writer")
        and sheet._rows is None
        and sheet._writer is None
    ):
        return sheet
    sheet._get_writer()
    if not isinstance(getattr(sheet._writer, "out", None), str):
        return sheet
    rows = _Rows(sheet)
    sheet.append = rows.append
    sheet.close = rows.close
    return sheet
