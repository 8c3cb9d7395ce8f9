"""File downloads of personal data: always an attachment, never cached."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse


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
