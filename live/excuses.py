"""A lecture's side of an approved leave request (registered with
``participation.absences`` when the app loads): the attendance is excused, and a makeup is
assigned or withdrawn."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from live import makeups as live_makeups
from live import services as live_services
from live.models import NEEDS_MAKEUP, Attendance, Lecture
from participation.absences import Decision


def excuse_lecture(decision: Decision, by, *, makeup: bool, request, now: dt.datetime) -> None:
    """The lecture's side of an approval. A lecture without attendance (not yet held or not
    yet computed) keeps only the ledger's excused entry."""
    absence = decision.absence
    try:
        lecture_id = int(absence.requirement_key.partition(":")[2])
    except ValueError:
        return
    attendance = (
        Attendance.objects.filter(lecture_id=lecture_id, person_id=absence.person_id)
        .select_related("lecture")
        .first()
    )
    if attendance is None:
        return
    if attendance.effective_status not in NEEDS_MAKEUP:
        return  # attended, or already excused: nothing to correct
    if not live_services.may_override(by, attendance):
        # The next attendance computation (cron, within minutes) reads the approved request.
        Lecture.objects.filter(pk=lecture_id).update(attendance_stale=True)
        decision.attendance_note = _(
            "The lecture's attendance will show “excused” after its next computation, "
            "within a few minutes."
        )
        return
    live_services.do_override_attendance(
        attendance,
        status="excused",
        reason=_("Leave approved: %(reason)s") % {"reason": absence.reason[:900]},
        by=by,
        request=request,
        now=now,
    )
    decision.attendance_changed = True
    if makeup:
        decision.makeup = live_makeups.do_assign_makeup(attendance.lecture, absence.person_id, now)
    else:
        live_makeups.withdraw_open_makeup(lecture_id, absence.person_id)
