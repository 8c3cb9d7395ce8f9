"""Samples for the permission matrix (tests/security/policies/live.py): check-in at the
centre and the attendance reports."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from live import centre
from live.models import LectureMode
from tests.live.helpers import make_lecture


def running_centre_lecture(org):
    """A lecture at the centre by ``lecturer`` for the east office, started 5 minutes ago."""
    return make_lecture(
        org, start=timezone.now() - dt.timedelta(minutes=5), mode=LectureMode.CENTRE
    )


def matrix_centre_lecture(org) -> dict[str, str]:
    return {"pk": str(running_centre_lecture(org).pk)}


def matrix_centre_scan(org) -> dict[str, str]:
    """The code on the screen right now."""
    lecture = running_centre_lecture(org)
    return {"pk": str(lecture.pk), "token": centre.qr_token(lecture)}


def matrix_person(org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}
