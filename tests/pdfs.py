"""The check every official PDF passes (pypdf, pure Python): each font it uses is embedded as
a subset, its text extracts as the words it shows, and no raw code (``lesson:10``,
``at_risk``) or, in Chinese, no stray English word is left in it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

from pypdf import PdfReader

# A stored key ("lesson:10", "quota:2026-10") or a choice's stored value ("at_risk").
RAW_CODE = re.compile(r"\b(?:lesson|course|lecture|quota|plan|goal):[\w-]+|\b[a-z]+_[a-z_]+\b")
SUBSET = re.compile(r"^/[A-Z]{6}\+")
# Where a Chinese document may show Latin letters: web addresses and verification codes.
ALLOWED_LATIN = re.compile(r"https?://\S+|\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){2}\b|\bv\d+\b")


def font_descriptor(font) -> dict:
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    return font.get("/FontDescriptor", {}).get_object() if "/FontDescriptor" in font else {}


def fonts(content: bytes) -> dict[str, bool]:
    """Every font the pages use, and whether it is embedded."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        resources = page.get("/Resources", {}).get_object()
        for font in resources.get("/Font", {}).get_object().values():
            font = font.get_object()
            descriptor = font_descriptor(font)
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def official_pdf_text(content: bytes, chinese: bool = True, data: Iterable[str] = ()) -> str:
    """The document's text after checking it: a PDF, every font embedded as a subset, no raw
    codes; in Chinese, no English word outside addresses, codes and the test's own ``data``
    (e.g. case numbers)."""
    assert content.startswith(b"%PDF-")
    used = fonts(content)
    assert used, "no font"
    for name, embedded in used.items():
        assert embedded, f"font {name} is not embedded"
        assert SUBSET.match(name), f"font {name} is embedded whole, not as a subset"
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert not RAW_CODE.search(text), RAW_CODE.search(text)
    if chinese:
        rest = ALLOWED_LATIN.sub(" ", text)
        for value in data:
            rest = rest.replace(value, " ")
        words = re.findall(r"[A-Za-z]{2,}", rest)
        assert not words, f"English words in a Chinese document: {words}"
    return text
