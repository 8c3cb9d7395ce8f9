"""Large Excel sheets through openpyxl's write-only mode, a few times faster.

openpyxl's write-only sheet turns every appended value into a cell object and writes it
through lxml's incremental writer: about 10 µs a cell on our machines, so a 100,000-row
report of ten columns spends ten seconds there. ``fast_rows(sheet)`` lets the sheet write
each row of plain values (text, numbers, booleans, ``None``) as one piece of XML, the same
XML openpyxl writes for them (inline strings, numbers with 16 significant digits), at about
3 µs a cell. The workbook, its other sheets, styles and the zip file stay openpyxl's.

It replaces two steps of openpyxl's own row loop (``WriteOnlyWorksheet._values_to_row`` and
``WorksheetWriter.write_row``) on that one sheet; where openpyxl does not use lxml, or
these are not there, the sheet is left as it is (slower, same file).
"""

from __future__ import annotations

import math

from lxml.etree import fromstring
from openpyxl import xml as openpyxl_xml
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MAX_TEXT = 32767  # Excel's limit; openpyxl cuts longer text the same way
_ILLEGAL = ILLEGAL_CHARACTERS_RE.search
_LETTERS = [get_column_letter(n) for n in range(1, 703)]  # A … ZZ


def _cell(value: object, ref: str) -> str:
    if type(value) is str:
        value = value[:MAX_TEXT]
        if _ILLEGAL(value):
            raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if value != value.strip():
            return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{value:d}</v></c>'
    if isinstance(value, int | float):
        if value != value or value in (math.inf, -math.inf):
            return f'<c r="{ref}" t="n"/>'
        return f'<c r="{ref}" t="n"><v>{"%.16g" % value}</v></c>'  # noqa: UP031 - openpyxl's format
    if isinstance(value, str):  # a str subclass
        return _cell(str(value), ref)
    raise TypeError(f"fast_rows takes text, numbers, booleans and None, not {type(value)!r}")


def _write_row(xf, row, row_idx: int) -> None:
    number = str(row_idx)
    cells = "".join(
        _cell(value, _LETTERS[column] + number)
        for column, value in enumerate(row)
        if value is not None and value != ""
    )
    xf.write(fromstring(f'<row r="{number}">{cells}</row>'))


def _values(values, row_idx):
    return values


def fast_rows(sheet: WriteOnlyWorksheet) -> WriteOnlyWorksheet:
    """``sheet`` (new, nothing appended yet), whose ``append`` now takes rows of text,
    numbers, booleans and ``None`` only (others raise ``TypeError``; empty text is left out
    like ``None``). Text is always stored as text, never as a formula: make it
    ``spreadsheet_safe`` as for any export. Returns the sheet."""
    if not (
        openpyxl_xml.LXML
        and hasattr(sheet, "_values_to_row")
        and hasattr(sheet, "_get_writer")
        and sheet._rows is None
    ):
        return sheet
    sheet._get_writer()
    if not hasattr(sheet._writer, "write_row"):
        return sheet
    sheet._values_to_row = _values
    sheet._writer.write_row = _write_row
    return sheet
