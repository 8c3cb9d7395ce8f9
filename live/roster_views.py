"""The live roster page in the Wagtail admin (``/admin/live/lectures/<id>/roster/``).

The page is a shell: the roster itself arrives over the lecture socket
(``live.consumers.LectureConsumer``), which decides again who may see it and which persons.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access
from live import roster
from live.models import Lecture


@require_GET
@permission_required("live.view_attendance")
def lecture_roster(request, pk: int):
    """Who is in the lecture now, who left, who has not joined; the lecturer sends presence
    checks from here. 404 for a lecture the user may not watch."""
    lecture = (
        Lecture.objects.visible_to(request.user).select_related("lecturer").filter(pk=pk).first()
    )
    if lecture is None or not roster.may_watch_roster(request.user, lecture):
        raise Http404
    record_access(request, action=Action.VIEW, obj=lecture, detail="live roster")
    return render(
        request,
        "live/admin/roster.html",
        {
            "lecture": lecture,
            "can_send": request.user.is_superuser or lecture.lecturer_id == request.user.pk,
            "window_seconds": int(roster.CHECK_WINDOW.total_seconds()),
        },
    )
