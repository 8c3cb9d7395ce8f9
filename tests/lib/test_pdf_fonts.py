"""lib.pdf's font: every PDF embeds a subset of the TrueType CJK font; without the font file
PDFs still work with the non-embedded CID font and the system check warns."""

from __future__ import annotations

from django.core import checks

from lib.pdf import FALLBACK_FONT, FONT_CHECK_ID, grid, pdf_document, qr_code, register_font
from lib.startup import check_pdf_font
from tests.pdfs import fonts, official_pdf_text


def test_every_font_of_a_document_is_an_embedded_subset_and_its_chinese_extracts():
    rows = [["案号", "姓名", "状态"], ["SF-0001", "欧阳·娜娜", "未完成"]]
    content = pdf_document(
        "参课情况月报",
        [("heading", "东司法所"), ("flowable", grid(rows, widths=[100, 100, 100]))],
    )
    text = official_pdf_text(content, data=["SF-0001"])
    assert "参课情况月报" in text and "东司法所" in text and "欧阳·娜娜" in text
    assert list(fonts(content)) == ["/AAAAAA+WenQuanYiMicroHei-0"]
    assert register_font() != FALLBACK_FONT
    assert check_pdf_font() == []


def test_a_document_with_many_characters_embeds_every_subset():
    # reportlab subsets a TrueType font 256 glyphs at a time: a long Chinese text needs several.
    many = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 600))
    content = pdf_document("长文", [("text", many)])
    used = fonts(content)
    assert len(used) >= 3 and all(used.values())
    assert many[:50] in official_pdf_text(content).replace("\n", "")


def test_without_the_font_file_pdfs_fall_back_and_the_check_warns(settings, tmp_path):
    settings.PDF_FONT = str(tmp_path / "missing.ttc")
    assert register_font() == FALLBACK_FONT
    content = pdf_document("参课情况", [("text", "张三")])
    assert fonts(content) == {f"/{FALLBACK_FONT}": False}
    [warning] = check_pdf_font()
    assert warning.level == checks.WARNING and warning.id == FONT_CHECK_ID
    assert "missing.ttc" in warning.msg and "fonts-wqy-microhei" in warning.msg


def test_a_file_that_is_not_a_truetype_font_is_refused(settings, tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_bytes(b"OTTO" + bytes(200))  # a CFF OpenType header, or any other junk
    settings.PDF_FONT = str(fake)
    assert register_font() == FALLBACK_FONT
    assert check_pdf_font()[0].id == FONT_CHECK_ID


def test_the_qr_code_fills_the_square_it_is_given_and_depends_on_its_value():
    first = qr_code("https://example.org/verify/ABCDEFGHJKMN/", 80)
    second = qr_code("https://example.org/verify/ZZZZZZZZZZZZ/", 80)
    assert (first.width, first.height) == (80, 80)
    modules = [(rect.x, rect.y) for rect in first.contents]
    assert len(modules) > 100
    assert all(0 <= x < 80 and 0 <= y < 80 for x, y in modules)
    assert modules != [(rect.x, rect.y) for rect in second.contents]
