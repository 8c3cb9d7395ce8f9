"""Live views: Jitsi webhook endpoints, the lecture page and the makeup page.

The hooks (``POST /live/hooks/jaas/``, ``POST /live/hooks/prosody/`` and the prosody plugin's
own ``POST /live/hooks/prosody/events/room/created`` … ``/events/occupant/left``, without a
trailing slash) are CSRF-exempt (the caller is Jitsi's server, authenticated by signature or
bearer token instead) and answer at once: 200 ``{"status": "stored"}`` for a new event, 200
``{"status": "duplicate"}`` for a replay, 4xx with a reason for anything refused (nothing is
stored; 400 for a body whose event is not the one its URL stands for; 422 for a room that is
no lecture's or a user who is not its participant), 503 when the secret is not configured.
None is ever redirected by ``APPEND_SLASH``: a server does not follow a redirect with its POST.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lib.parse import parse_id
from lib.study_time import study_time
from live import makeups, services
from live.models import Attendance, Makeup
from live.webhooks import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    ParsedEvent,
    WebhookError,
    parse_jaas_event,
    parse_prosody_event,
    verify_bearer_token,
    verify_jaas_signature,
)

TAB_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


# --- Webhooks ---------------------------------------------------------------------------------


def _rejected(error: WebhookError) -> JsonResponse:
    response = JsonResponse({"status": "rejected", "reason": str(error)}, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _not_configured() -> JsonResponse:
    return JsonResponse({"status": "rejected", "reason": "not configured"}, status=503)


def _read_body(request: HttpRequest) -> bytes:
    """The raw body, refusing more than 1 MB by the declared length and by what is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise BodyTooLarge("body over 1 MB")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge("body over 1 MB")
    return body


def _intake(
    request: HttpRequest,
    authenticate: Callable[[bytes], None],
    parse: Callable[[bytes], ParsedEvent],
) -> JsonResponse:
    try:
        body = _read_body(request)
        authenticate(body)
        parsed = parse(body)
        services.check_presence_event(parsed)
    except WebhookError as error:
        return _rejected(error)
    result = services.do_store_presence_event(parsed)
    return JsonResponse({"status": result.status})


@no_append_slash
@csrf_exempt
@require_POST
def jaas_hook(request: HttpRequest) -> JsonResponse:
    secret = settings.JAAS_WEBHOOK_SECRET
    if not secret:
        return _not_configured()
    header = request.headers.get("X-Jaas-Signature")
    return _intake(
        request,
        lambda body: verify_jaas_signature(secret, header, body, timezone.now()),
        parse_jaas_event,
    )


def _prosody_intake(request: HttpRequest, expected: str | None) -> JsonResponse:
    token = settings.PROSODY_WEBHOOK_TOKEN
    if not token:
        return _not_configured()
    header = request.headers.get("Authorization")
    return _intake(
        request,
        lambda body: verify_bearer_token(token, header),
        lambda body: parse_prosody_event(body, expected),
    )


@no_append_slash
@csrf_exempt
@require_POST
def prosody_hook(request: HttpRequest) -> JsonResponse:
    """The single endpoint: any ``event_sync`` event, named by its body."""
    return _prosody_intake(request, None)


@no_append_slash
@csrf_exempt
@require_POST
def prosody_event_hook(request: HttpRequest, event_name: str) -> JsonResponse:
    """One of the plugin's own URLs (``live/urls.py`` passes the event it stands for)."""
    return _prosody_intake(request, event_name)


@no_append_slash
@csrf_exempt
@require_POST
def prosody_unknown_hook(request: HttpRequest, rest: str) -> JsonResponse:
    """Anything else under ``events/`` (another event, a trailing slash): a clear 404 where
    ``APPEND_SLASH`` would have redirected the POST to a page that does not exist."""
    return JsonResponse({"status": "rejected", "reason": "no such event URL"}, status=404)


# --- The lecture page -------------------------------------------------------------------------


@require_GET
@login_required
def lecture_page(request, pk: int):
    """The lecture for an audience member (attendee) or its lecturer (moderator); 404 for
    anyone else. The video room is embedded from 15 minutes before the start to the end."""
    access = services.access_lecture_page(request.user, pk)
    lecture = access.lecture
    now = timezone.now()
    opens, closes = services.join_window(lecture)
    phase = "before" if now < opens else "after" if now >= closes else "open"
    embed = None
    if phase == "open" and lecture.online:
        embed = services.lecture_embed(access, request.user, now)
    attendance = makeup = None
    if access.person is not None and phase == "after":
        attendance = Attendance.objects.filter(lecture=lecture, person=access.person).first()
        makeup = Makeup.objects.filter(lecture=lecture, person=access.person).first()
    return render(
        request,
        "live/lecture.html",
        {
            "lecture": lecture,
            "access": access,
            "phase": phase,
            "opens_at": opens,
            "embed": embed,
            "attendance": attendance,
            "makeup": makeup,
        },
    )


# --- Makeups ----------------------------------------------------------------------------------


@require_GET
@login_required
def makeup_page(request, pk: int):
    makeup = makeups.access_makeup_for_learner(request.user, pk)
    lecture = makeup.lecture
    completion_seconds = makeups.completion_seconds(lecture)
    shown_seconds = min(makeup.credited_seconds, completion_seconds)
    return render(
        request,
        "live/makeup.html",
        {
            "makeup": makeup,
            "lecture": lecture,
            "credited": makeup.credited_seconds,
            "completion_seconds": completion_seconds,
            "shown_seconds": shown_seconds,
            "study_time": study_time(shown_seconds, completion_seconds),
            "later_lectures": makeups.later_lectures_for(makeup) if not makeup.completed_at else [],
        },
    )


def _beat_body(request) -> dict:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}
    return {key: request.POST.get(key) for key in ("lesson", "tab", "playing")}


def _error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@require_POST
def makeup_heartbeat(request):
    """One heartbeat of the recording player (``static/js/heartbeat.js``, which names the
    makeup ``lesson``): ``{"lesson": makeup id, "tab": str, "playing": bool?}`` as JSON or as a
    beacon form. Time comes from the server clock only."""
    if not request.user.is_authenticated:
        return _error("not_signed_in", 403)
    body = _beat_body(request)
    makeup_id, tab = parse_id(body.get("lesson")), body.get("tab")
    if makeup_id is None or not isinstance(tab, str) or not TAB_ID.fullmatch(tab):
        return _error("malformed", 400)
    makeup = makeups.access_makeup_for_learner(request.user, makeup_id)
    if body.get("playing") not in (False, "false", "0"):
        try:
            makeup = makeups.do_record_watch_heartbeat(makeup, tab)
        except makeups.BeatRejected as rejected:
            status = 409 if rejected.reason == "no_recording" else 429
            return _error(rejected.reason, status)
    return JsonResponse(
        {
            "credited_seconds": makeup.credited_seconds,
            "expected_seconds": makeups.completion_seconds(makeup.lecture),
            "completed": makeup.completed_at is not None,
        }
    )
