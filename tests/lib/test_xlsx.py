"""lib/xlsx.py: rows of plain values written straight as XML into openpyxl's write-only
sheets read back exactly as openpyxl's own writer's."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from lib.xlsx import fast_rows

ROWS = [
    ("案号", "姓名", "数", "小数", "是否"),
    ("A-1", "张三", 3, 5.5, True),
    (" 前后空格 ", "a & b <c> \"d\" 'e'", 0, 0.1, False),
    ("多行\n文字", None, -7, 1e-20, None),
    ("", "长" * 40000, 10**15, 2 / 3, True),
]


def _book(fast: bool) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("表")
    if fast:
        sheet = fast_rows(sheet)
    for row in ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_fast_rows_read_back_as_openpyxls_own():
    fast, plain = (load_workbook(io.BytesIO(_book(f)))["表"] for f in (True, False))
    assert list(fast.values) == list(plain.values)
    assert fast["B5"].value == "长" * 32767  # cut at Excel's limit, as openpyxl does
    assert fast["A3"].value == " 前后空格 " and fast["E2"].value is True


def test_fast_rows_refuse_what_they_cannot_write():
    sheet = fast_rows(Workbook(write_only=True).create_sheet("表"))
    with pytest.raises(TypeError):
        sheet.append([dt.date(2026, 1, 1)])
    sheet = fast_rows(Workbook(write_only=True).create_sheet("表"))
    with pytest.raises(IllegalCharacterError):
        sheet.append(["bad \x01 text"])
