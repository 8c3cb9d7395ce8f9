"""Check-in at the centre: the learner's scan, and the staff's check-in screen and audience
list in the Wagtail admin (``live.centre`` has the rules).

- ``/live/check-in/<lecture>/<token>/``: what the QR code opens. Signed in, the scan is
  recorded at once (the token lives 30-60 s, so a link cannot be kept for later); signed
  out, a valid scan is remembered in the session for 10 minutes while the person signs in.
- ``/admin/live/lectures/<id>/check-in-screen/``: the full-screen code, reloaded when the
  code changes (a meta refresh, no script).
- ``/admin/live/lectures/<id>/centre/``: the audience list with check in / check out /
  undo; ``.../centre/mark/`` takes the form (POST).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from lib.parse import parse_id
from lib.widgets import TimeInput
from live import centre
from live.models import CentreCheckIn, Lecture
from live.reports import shows_case_numbers

VIEW_PERMISSION = "live.view_attendance"
SESSION_KEY = "live_centre_scan"
REMEMBER_SCAN = dt.timedelta(minutes=10)


# --- The learner's scan -----------------------------------------------------------------------


def _remembered_scan(request, pk: int, token: str) -> dt.datetime | None:
    """When this very code was scanned while valid, before signing in (at most 10 min ago)."""
    saved = request.session.get(SESSION_KEY)
    if not isinstance(saved, dict) or saved.get("lecture") != pk or saved.get("token") != token:
        return None
    try:
        at = dt.datetime.fromisoformat(saved.get("at", ""))
    except (TypeError, ValueError):
        return None
    now = timezone.now()
    return at if at.tzinfo and now - REMEMBER_SCAN <= at <= now else None


def _refused(request, reason: str, lecture: Lecture | None = None):
    status = 403 if reason == "not_audience" else 400
    context = {"ok": False, "reason": reason, "message": centre.refusal_message(reason)}
    context["lecture"] = lecture
    return render(request, "live/centre_scan.html", context, status=status)


@require_GET
def scan(request, pk: int, token: str):
    """Record the signed-in learner's check-in from the code they scanned; a clear page
    either way, and nothing stored on a refusal."""
    now = timezone.now()
    if not request.user.is_authenticated:
        lecture = Lecture.objects.filter(pk=pk, mode__in=centre.CENTRE_MODES).first()
        try:
            if lecture is None:
                raise centre.CheckInRefused("invalid")
            centre.check_token(lecture, token, now)
        except centre.CheckInRefused as refused:
            return _refused(request, refused.reason)
        request.session[SESSION_KEY] = {"lecture": pk, "token": token, "at": now.isoformat()}
        return redirect_to_login(request.get_full_path())
    scanned_at = _remembered_scan(request, pk, token) or now
    try:
        result = centre.do_scan_check_in(request.user, pk, token, now=scanned_at, request=request)
    except centre.CheckInRefused as refused:
        return _refused(request, refused.reason)
    request.session.pop(SESSION_KEY, None)
    return render(
        request,
        "live/centre_scan.html",
        {"ok": True, "lecture": result.lecture, "check_in": result.check_in, "new": result.created},
    )


# --- Staff: the check-in screen ---------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERMISSION)
def check_in_screen(request, pk: int):
    """The rotating code, full screen, for the lecture's room at the centre."""
    lecture = centre.access_centre_lecture(request.user, pk)
    now = timezone.now()
    opens, closes = centre.check_in_window(lecture)
    is_open = opens <= now <= closes
    url = svg = ""
    if is_open:
        token = centre.qr_token(lecture, now)
        url = request.build_absolute_uri(reverse("live_centre_scan", args=[lecture.pk, token]))
        svg = centre.qr_svg(url)
    present = CentreCheckIn.objects.filter(lecture=lecture, checked_out_at__isnull=True).count()
    return render(
        request,
        "live/admin/centre_screen.html",
        {
            "lecture": lecture,
            "is_open": is_open,
            "opens_at": opens,
            "before": now < opens,
            "url": url,
            "svg": svg,
            "present": present,
            # reload just after the code changes (before opening: once a minute)
            "refresh": centre.seconds_to_next_step(now) + 1 if is_open else 60,
        },
    )


# --- Staff: the audience list -----------------------------------------------------------------


class MarkForm(forms.Form):
    person = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[(a, a) for a in centre.MARK_ACTIONS])
    at = forms.TimeField(required=False, input_formats=["%H:%M", "%H:%M:%S"], widget=TimeInput())
    reason = forms.CharField(required=False, max_length=200, strip=True)


def _at(lecture: Lecture, value: dt.time | None) -> dt.datetime | None:
    """A clock time on the lecture's day (local time), or None for "now"."""
    if value is None:
        return None
    day = timezone.localtime(lecture.start).date()
    return timezone.make_aware(dt.datetime.combine(day, value.replace(microsecond=0)))


@require_GET
@permission_required(VIEW_PERMISSION)
def centre_roster(request, pk: int):
    lecture = centre.access_centre_lecture(request.user, pk)
    rows = centre.roster(request.user, lecture)
    record_access(
        request,
        action=Action.VIEW,
        obj=lecture,
        detail=f"centre audience list, {len(rows)} persons",
    )
    checked_in = sum(1 for row in rows if row.check_in is not None)
    return render(
        request,
        "live/admin/centre_roster.html",
        {
            "lecture": lecture,
            "rows": rows,
            "checked_in": checked_in,
            "show_case_numbers": shows_case_numbers(request.user, lecture),
            "window": centre.check_in_window(lecture),
        },
    )


@require_POST
@permission_required(VIEW_PERMISSION)
def centre_mark(request, pk: int):
    lecture = centre.access_centre_lecture(request.user, pk)
    back = redirect("live_centre_roster", lecture.pk)
    form = MarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the form: choose a person and what to record."))
        return back
    person_id = parse_id(form.cleaned_data["person"])
    try:
        centre.do_staff_mark(
            lecture,
            person_id,
            action=form.cleaned_data["action"],
            by=request.user,
            at=_at(lecture, form.cleaned_data["at"]),
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied:
        raise deny(request, "may not mark this person at the centre") from None
    else:
        messages.success(request, _("Saved."))
    return back


admin_urlpatterns = [
    path(
        "live/lectures/<int:pk>/check-in-screen/",
        check_in_screen,
        name="live_centre_screen",
    ),
    path("live/lectures/<int:pk>/centre/", centre_roster, name="live_centre_roster"),
    path("live/lectures/<int:pk>/centre/mark/", centre_mark, name="live_centre_mark"),
]
