"""One counseling appointment as an iCalendar file (RFC 5545) a phone calendar imports.

Times are written in UTC (``…Z``), so no VTIMEZONE block is needed and every calendar shows
the right local time. Text values are escaped and long lines folded at 75 octets."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from plans.models import CounselingAppointment

PRODID = "-//sqjz//counseling appointments//ZH"


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11: backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space,
    never splitting a UTF-8 character."""
    parts: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = char
            limit = 74  # the leading space counts
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment: CounselingAppointment, *, host: str, now: dt.datetime) -> str:
    counselor = appointment.counselor.get_full_name() or appointment.counselor.get_username()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:counseling-appointment-{appointment.pk}@{host}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(appointment.scheduled_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        "SUMMARY:" + escape_text(_("Talk with your counselor")),
        "LOCATION:" + escape_text(appointment.where),
        "DESCRIPTION:"
        + escape_text(
            _("Counselor: %(name)s. If you cannot come, please tell your counselor beforehand.")
            % {"name": counselor}
        ),
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
