"""The certificate as a printed document: one landscape A4 page laid out as a certificate.

A double frame; the title; one sentence naming the person, the course and its hours; the
issuing office and the date over an area left for the office's seal; a QR code of the public
verification page with the verification code and its address. A revoked certificate says so in
red under the title. Everything printed comes from what the certificate copied at issue time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from learning.certificates import format_code, is_revoked
from learning.models import Certificate
from lib.pdf import pdf_canvas, qr_code, register_font

PAGE = landscape(A4)
INK = colors.HexColor("#1f1f1f")
FRAME = colors.HexColor("#8c1c13")  # the red of an official document's frame and seal
MUTED = colors.HexColor("#6b6b6b")
# Quotation marks a course title may already carry: the sentence adds its own.
_QUOTES = (("《", "》"), ("“", "”"), ('"', '"'), ("「", "」"))


def quoted_title(title: str, template: str) -> str:
    """The course title as ``template`` quotes it (``%(course)s`` between quotation marks):
    without marks around the whole title ("《心理健康》" → "心理健康"), and, inside the
    template's 《》, with the title's own 《》 turned into 〈〉 as Chinese nesting requires
    (GB/T 15834): "《〈社区矫正法〉要点》", never "《《社区矫正法》要点》"."""
    title = title.strip()
    for opening, closing in _QUOTES:
        inner = title[len(opening) : -len(closing)]
        if (
            len(title) > 2
            and title.startswith(opening)
            and title.endswith(closing)
            and opening not in inner
            and closing not in inner
        ):
            title = inner.strip()
            break
    if "《%(course)s》" in template:
        title = title.replace("《", "〈").replace("》", "〉")
    return title


def _date(value) -> str:
    return date_format(timezone.localtime(value), "DATE_FORMAT")


@dataclass(frozen=True)
class CertificateText:
    """What the certificate prints, in the reader's language."""

    title: str
    revoked: str  # empty unless revoked
    sentence_markup: str  # a paragraph: the name emphasised
    sentence: str  # the same sentence as plain text
    closing: str
    office: str
    issued_on: str
    seal: str
    scan: str
    code: str
    check_at: str
    url: str


def certificate_text(certificate: Certificate, url: str) -> CertificateText:
    template = _(
        "This is to certify that %(name)s has completed the course “%(course)s” "
        "(%(hours)s credit hours) on %(date)s."
    )
    values = {
        "name": certificate.person_name,
        "course": quoted_title(certificate.course_title, template),
        "hours": f"{certificate.credit_hours.normalize():f}",
        "date": _date(certificate.completed_at),
    }
    # The name larger and underlined, as written in by hand on a printed form (one font, so
    # no bold).
    emphasised = {key: escape(value) for key, value in values.items()}
    emphasised["name"] = f'<font size="22"><u>&nbsp;{emphasised["name"]}&nbsp;</u></font>'

    revoked = ""
    if is_revoked(certificate):
        revoked = _("REVOKED on %(date)s: this certificate no longer certifies completion.") % {
            "date": _date(certificate.revoked_at)
        }
    return CertificateText(
        title=_("Certificate of completion"),
        revoked=revoked,
        sentence_markup=escape(template) % emphasised,
        sentence=template % values,
        closing=_("This certificate is hereby issued."),
        office=certificate.office_name,
        issued_on=_date(certificate.issued_at),
        seal=_("(seal)"),
        scan=_("Scan to verify"),
        code=_("Verification code: %(code)s") % {"code": format_code(certificate.code)},
        check_at=_("Anyone can check this certificate at:"),
        url=url,
    )


def _frame(canvas: Canvas) -> None:
    width, height = PAGE
    canvas.setStrokeColor(FRAME)
    canvas.setLineWidth(3)
    canvas.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(13.5 * mm, 13.5 * mm, width - 27 * mm, height - 27 * mm)
    # Small squares at the inner corners, a common certificate ornament.
    canvas.setFillColor(FRAME)
    for x in (13.5 * mm, width - 13.5 * mm):
        for y in (13.5 * mm, height - 13.5 * mm):
            canvas.rect(x - 1.6 * mm, y - 1.6 * mm, 3.2 * mm, 3.2 * mm, stroke=0, fill=1)


def _draw(canvas: Canvas, text: CertificateText, font: str) -> None:
    width, height = PAGE
    chinese = (get_language() or "").startswith("zh")
    _frame(canvas)

    # Title: spaced characters in Chinese ("结 业 证 书"), plain in English.
    canvas.setFillColor(INK)
    canvas.setFont(font, 34)
    spacing = 14 if chinese else 1
    title_width = canvas.stringWidth(text.title, font, 34) + spacing * (len(text.title) - 1)
    canvas.drawString((width - title_width) / 2, height - 48 * mm, text.title, charSpace=spacing)
    canvas.setStrokeColor(FRAME)
    canvas.setLineWidth(1.2)
    canvas.line(width / 2 - 40 * mm, height - 54 * mm, width / 2 + 40 * mm, height - 54 * mm)

    if text.revoked:
        canvas.setFillColor(colors.HexColor("#c62828"))
        canvas.setFont(font, 13)
        canvas.drawCentredString(width / 2, height - 64 * mm, text.revoked)

    # The sentence, in a column narrower than the frame.
    style = ParagraphStyle(
        "certificate",
        fontName=font,
        fontSize=18,
        leading=36,
        textColor=INK,
        alignment=TA_LEFT,
        firstLineIndent=34 if chinese else 0,
        wordWrap="CJK" if chinese else None,
    )
    top = height - 78 * mm
    for markup in (text.sentence_markup, escape(text.closing)):
        body = Paragraph(markup, style)
        _w, used = body.wrap(width - 90 * mm, 70 * mm)
        body.drawOn(canvas, 45 * mm, top - used)
        top -= used + 4 * mm

    # Issuing office and date at the right, over the area left for the seal.
    centre_x, centre_y = width - 78 * mm, 52 * mm
    canvas.saveState()
    canvas.setStrokeColor(colors.HexColor("#d9a19c"))
    canvas.setLineWidth(0.8)
    canvas.setDash(3, 3)
    canvas.circle(centre_x, centre_y, 21 * mm, stroke=1, fill=0)
    canvas.restoreState()
    canvas.setFillColor(colors.HexColor("#c9928c"))
    canvas.setFont(font, 9)
    canvas.drawCentredString(centre_x, centre_y + 12 * mm, text.seal)
    canvas.setFillColor(INK)
    office_size = 15
    while office_size > 9 and canvas.stringWidth(text.office, font, office_size) > 80 * mm:
        office_size -= 1
    canvas.setFont(font, office_size)
    canvas.drawCentredString(centre_x, centre_y + 1 * mm, text.office)
    canvas.setFont(font, 13)
    canvas.drawCentredString(centre_x, centre_y - 8 * mm, text.issued_on)

    # Verification at the left: the QR code of the public page, the code and the address.
    size = 30 * mm
    left, bottom = 24 * mm, 22 * mm
    qr_code(text.url, size).drawOn(canvas, left, bottom)
    x = left + size + 5 * mm
    canvas.setFont(font, 10)
    canvas.setFillColor(MUTED)
    canvas.drawString(x, bottom + size - 4 * mm, text.scan)
    canvas.setFillColor(INK)
    canvas.setFont(font, 12)
    canvas.drawString(x, bottom + size - 12 * mm, text.code)
    canvas.setFillColor(MUTED)
    canvas.setFont(font, 8)
    y = bottom + size - 19 * mm
    canvas.drawString(x, y, text.check_at)
    for line in simpleSplit(text.url, font, 8, 95 * mm)[:3]:
        y -= 10
        canvas.drawString(x, y, line)


def certificate_pdf(certificate: Certificate, url: str) -> bytes:
    """The certificate (see the module) as PDF bytes; ``url`` is its public verification
    page (``certificates.verification_url``), printed and encoded in the QR code."""
    text = certificate_text(certificate, url)
    title = text.title if not text.revoked else _("Certificate of completion (revoked)")
    buffer = io.BytesIO()
    canvas = pdf_canvas(buffer, title=title, author=certificate.office_name, pagesize=PAGE)
    _draw(canvas, text, register_font())
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
