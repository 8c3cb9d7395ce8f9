"""Attendance downloads in the Wagtail admin (``live.reports`` builds the tables).

- ``POST /admin/live/lectures/<id>/attendance/export/`` (``format`` csv, xlsx or pdf): the
  lecture's attendance table, the rows the user sees on the attendance page.
- ``/admin/live/persons/<id>/lectures/``: a person's lecture history, for staff who may see
  the person; ``POST .../export/`` (csv or pdf) downloads it.

Downloads are POST (a logged, sensitive action must not be triggered by a link or a
prefetch) and written to the access log with their row count.
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access
from lib.downloads import CSV_TYPE, XLSX_TYPE, attachment
from live import reports, services
from live.admin_views import _lecture_for
from people.services import access_person_for_user

CONTENT_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE, "pdf": "application/pdf"}


def _bad_format():
    return HttpResponseBadRequest(
        _("Please choose a file format for the download."),
        content_type="text/plain; charset=utf-8",
    )


@require_POST
@permission_required("live.view_attendance")
def lecture_attendance_export(request, pk: int):
    lecture = _lecture_for(request, pk)
    fmt = request.POST.get("format", "")
    if fmt not in reports.LECTURE_FORMATS:
        return _bad_format()
    now = timezone.now()
    if lecture.has_ended(now) and (
        lecture.attendance_stale or lecture.attendance_computed_at is None
    ):
        services.do_recompute_attendance(lecture, now)
    content, count = reports.lecture_download(request.user, lecture, fmt)
    record_access(
        request,
        action=Action.EXPORT,
        obj=lecture,
        detail=f"attendance {fmt}, {count} rows",
    )
    filename = f"attendance-lecture-{lecture.pk}-{timezone.localdate(lecture.start):%Y%m%d}.{fmt}"
    return attachment(content, CONTENT_TYPES[fmt], filename)


@require_GET
@permission_required("people.view_person")
def person_history(request, pk: int):
    person = access_person_for_user(request.user, pk, request)
    rows = reports.person_history(person)
    return render(
        request,
        "live/admin/person_history.html",
        {"person": person, "rows": rows, "formats": reports.PERSON_FORMATS},
    )


@require_POST
@permission_required("people.view_person")
def person_history_export(request, pk: int):
    fmt = request.POST.get("format", "")
    if fmt not in reports.PERSON_FORMATS:
        return _bad_format()
    person = access_person_for_user(request.user, pk, request)
    content, count = reports.person_download(person, fmt)
    record_access(
        request,
        action=Action.EXPORT,
        obj=person,
        person_id=person.pk,
        detail=f"lecture history {fmt}, {count} rows",
    )
    filename = f"lecture-history-{person.pk}-{timezone.localdate():%Y%m%d}.{fmt}"
    return attachment(content, CONTENT_TYPES[fmt], filename)


admin_urlpatterns = [
    path(
        "live/lectures/<int:pk>/attendance/export/",
        lecture_attendance_export,
        name="live_attendance_export",
    ),
    path("live/persons/<int:pk>/lectures/", person_history, name="live_person_history"),
    path(
        "live/persons/<int:pk>/lectures/export/",
        person_history_export,
        name="live_person_history_export",
    ),
]
