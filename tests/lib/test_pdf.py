"""lib.pdf: Chinese text, formal footers (generated at/by, page x of y), tables and charts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm

from lib.pdf import Footer, bar_chart, grid, line_chart, page_of, pdf_document, table

WHEN = dt.datetime(2026, 10, 31, 9, 30, tzinfo=dt.UTC)


def pages_text(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_a_plain_document_has_chinese_text_and_no_footer(english):
    pages = pages_text(pdf_document("参课情况", [("heading", "东司法所"), ("text", "张三")]))
    assert len(pages) == 1
    assert "参课情况" in pages[0] and "东司法所" in pages[0] and "张三" in pages[0]
    assert "page 1" not in pages[0] and "Generated" not in pages[0]


def test_a_footer_numbers_every_page_and_says_who_and_when(english):
    rows = [["案号", "姓名"]] + [[f"SF-{n:04d}", f"张三{n}"] for n in range(120)]
    content = pdf_document(
        "月报",
        [("flowable", table(rows, wrap=False, style="cell"))],
        footer=Footer("王警官", WHEN, label="东司法所 2026年10月"),
    )
    pages = pages_text(content)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert page_of(number, len(pages)) in text
        assert "Generated 2026-10-31 17:30 by 王警官" in text  # Asia/Shanghai
        assert "东司法所 2026年10月" in text
    # The header row repeats on every page.
    assert all("案号" in text for text in pages)
    assert "SF-0119" in pages[-1]


def test_page_of_reads_as_a_formal_report_in_chinese():
    from django.utils import translation

    with translation.override("en"):
        assert page_of(2, 5) == "page 2 / 5"


@pytest.mark.parametrize("wrap", [True, False, {1}])
def test_tables_take_any_value_wrapped_or_not(wrap):
    rows = [["名称", "说明", "数"], ["甲", "很长的说明" * 12, 3], ["乙", None, 4.5]]
    text = pages_text(pdf_document("表", [("flowable", table(rows, wrap=wrap))]))[0]
    assert "甲" in text and "乙" in text and "很长的说明" in text


def test_charts_draw_labels_and_values():
    bars = bar_chart(["东司法所", "西司法所", "南司法所"], [87.5, 100, 0], title="参课率（%）")
    many = bar_chart([f"第{n}司法所" for n in range(30)], [n * 3 for n in range(30)])
    trend = line_chart(
        ["05", "06", "07", "08"], {"全局": [80, None, 90, 95], "东": [70, 75, 80, 85]}
    )
    content = pdf_document("图表", [("flowable", bars), ("flowable", many), ("flowable", trend)])
    text = "\n".join(pages_text(content))
    for label in ("参课率（%）", "东司法所", "西司法所", "第29司法所", "全局", "08", "88", "100"):
        assert label in text


def test_charts_cope_with_nothing_to_show():
    content = pdf_document(
        "空", [("flowable", bar_chart([], [])), ("flowable", line_chart([], {}))]
    )
    assert len(pages_text(content)) == 1


def test_a_grid_breaks_long_text_and_repeats_its_header_on_every_page():
    rows = [["编号", "说明"]] + [
        [f"R{n:03d}", "很长的说明，带 English words 和数字 12345；" * 3] for n in range(120)
    ]
    content = pdf_document("表", [("flowable", grid(rows, widths=[30 * mm, 80 * mm], wrap={1}))])
    pages = pages_text(content)
    assert len(pages) > 2
    assert all("编号" in page and "说明" in page for page in pages)
    text = "\n".join(pages)
    assert all(text.count(f"R{n:03d}") == 1 for n in range(120))
    assert "English" in text and "12345" in text  # words are not cut in two
