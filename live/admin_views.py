"""Staff views in the Wagtail admin: a lecture's attendance table and the override form.

The lecture list and form are a ``ModelViewSet`` (``live/wagtail_hooks.py``); these two
views are plain functions. Who sees which rows: ``Attendance.objects.visible_to`` (the
lecturer their lecture's whole roster, an officer the persons in their scope).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from live import reports, services
from live.forms import OverrideForm
from live.models import Attendance, AttendanceStatus, Lecture, LectureAudience


def _lecture_for(request, pk: int) -> Lecture:
    lecture = (
        Lecture.objects.visible_to(request.user).select_related("lecturer").filter(pk=pk).first()
    )
    if lecture is None:
        raise Http404
    return lecture


def _instant(value) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@require_GET
@permission_required("live.view_attendance")
def lecture_attendance(request, pk: int):
    """Who attended, for how long, and why the status is what it is; with the override form
    on each row the user may change. An ended lecture whose events changed is recomputed
    first."""
    lecture = _lecture_for(request, pk)
    now = timezone.now()
    if lecture.has_ended(now) and (
        lecture.attendance_stale or lecture.attendance_computed_at is None
    ):
        services.do_recompute_attendance(lecture, now)
        lecture.refresh_from_db()
    rows = list(
        Attendance.objects.visible_to(request.user)
        .filter(lecture=lecture)
        .select_related("person__office", "policy", "override_by")
        .order_by("person__office__path", "person__full_name", "pk")
    )
    for row in rows:
        row.first_join = _instant(row.figures.get("first_join"))
        row.last_leave = _instant(row.figures.get("last_leave"))
        row.display_name = reports.attendee_name(request.user, lecture, row.person.full_name)
    # the rows are already limited to the user's scope (``Attendance.objects.visible_to``)
    may_change = services.may_override_attendance(request.user)
    editable = {row.pk for row in rows} if may_change else set()
    expected = LectureAudience.objects.filter(lecture=lecture).count()
    counts = dict.fromkeys(AttendanceStatus.values, 0)
    for row in rows:
        counts[row.effective_status] += 1
    record_access(
        request,
        action=Action.VIEW,
        obj=lecture,
        detail=f"attendance table, {len(rows)} persons",
    )
    return render(
        request,
        "live/admin/attendance.html",
        {
            "lecture": lecture,
            "rows": rows,
            "editable": editable,
            "may_change": may_change,
            "form": OverrideForm(),
            "expected": expected,
            "counts": [(AttendanceStatus(s).label, n) for s, n in counts.items()],
            "ended": lecture.has_ended(now),
            # The lecturer's own lecture: names (masked), offices, statuses, minutes (live.reports).
            "show_case_numbers": reports.shows_case_numbers(request.user, lecture),
        },
    )


@require_POST
@permission_required("live.change_attendance")
def override_attendance(request, pk: int):
    attendance = (
        Attendance.objects.visible_to(request.user)
        .select_related("lecture", "person")
        .filter(pk=pk)
        .first()
    )
    if attendance is None:
        person_id = Attendance.objects.filter(pk=pk).values_list("person_id", flat=True).first()
        if person_id is not None:
            record_access(
                request,
                action=Action.DENIED,
                object_type="live.attendance",
                object_id=pk,
                person_id=person_id,
                success=False,
            )
        raise Http404
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a reason for the change."))
        return redirect("live_lecture_attendance", attendance.lecture_id)
    try:
        services.do_override_attendance(
            attendance,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied:
        raise deny(request, "may not change this attendance") from None
    else:
        messages.success(
            request,
            _("The attendance of %(name)s was changed.") % {"name": attendance.person.full_name},
        )
    return redirect("live_lecture_attendance", attendance.lecture_id)
