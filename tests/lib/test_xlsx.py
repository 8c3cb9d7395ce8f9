"""lib/xlsx.py: rows of plain values written straight as XML into openpyxl's write-only
sheets read back exactly as openpyxl's own writer's."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError, WorkbookAlreadySaved

from lib.downloads import spreadsheet_safe
from lib.xlsx import fast_rows

ROWS = [
    ("案号", "姓名", "数", "小数", "是否"),
    ("A-1", "张三", 3, 5.5, True),
    (" 前后空格 ", "a & b <c> \"d\" 'e'", 0, 0.1, False),
    ("多行\n文字", None, -7, 1e-20, None),
    ("", "长" * 40000, 10**15, 2 / 3, True),
    ("回车\r\n换行\r", "=1+1", float("nan"), float("inf"), 1),
    ("A-1", "张三", 3.0, 5.5, 0),  # repeated values: escaped once, written at every cell
    (),
    ("后面空", None, None, None, None),
]


def _book(fast: bool) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("表")
    if fast:
        sheet = fast_rows(sheet)
    for row in ROWS:
        # openpyxl's own writer would store "=1+1" as a formula; fast_rows neutralises it.
        sheet.append(row if fast else [spreadsheet_safe(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_fast_rows_read_back_as_openpyxls_own():
    fast, plain = (load_workbook(io.BytesIO(_book(f)))["表"] for f in (True, False))
    assert list(fast.values) == list(plain.values)
    assert fast["B5"].value == "长" * 32767  # cut at Excel's limit, as openpyxl does
    assert fast["A3"].value == " 前后空格 " and fast["E2"].value is True
    assert fast["A6"].value == "回车\r\n换行\r" and fast["C6"].value is None
    assert fast["B6"].value == "'=1+1" and fast["B6"].data_type == "s"  # never a formula


def test_many_rows_go_through_the_temporary_file_in_order():
    rows = [(f"案号-{n}", n, n / 7, n % 3 == 0, "状态" if n % 2 else None) for n in range(1234)]
    books = []
    for fast in (True, False):
        book = Workbook(write_only=True)
        sheet = book.create_sheet("表")
        if fast:
            sheet = fast_rows(sheet)
        for row in rows:
            sheet.append(row)
        book.create_sheet("空")  # untouched: both write an empty sheet
        empty = fast_rows(book.create_sheet("空的快表"))
        buffer = io.BytesIO()
        book.save(buffer)
        books.append(load_workbook(io.BytesIO(buffer.getvalue())))
        with pytest.raises(WorkbookAlreadySaved):
            empty.append(["太晚了"])
    fast, plain = books
    assert fast.sheetnames == plain.sheetnames
    for name in fast.sheetnames:
        assert list(fast[name].values) == list(plain[name].values)
    assert fast["表"].max_row == 1234 and fast["表"]["A1234"].value == "案号-1233"


def test_fast_rows_refuse_what_they_cannot_write():
    sheet = fast_rows(Workbook(write_only=True).create_sheet("表"))
    with pytest.raises(TypeError):
        sheet.append([dt.date(2026, 1, 1)])
    sheet = fast_rows(Workbook(write_only=True).create_sheet("表"))
    with pytest.raises(IllegalCharacterError):
        sheet.append(["bad \x01 text"])
