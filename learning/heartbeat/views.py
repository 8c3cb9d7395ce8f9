"""``POST /learning/heartbeat/``: the full way of a beat, and the answers both ways give.

Most JSON beats are answered before reaching the view, by ``learning.heartbeat.middleware``
with the same checks and these same answers; the view answers the rest (and every beat when
that middleware is absent).
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from courses.models import LessonPage
from learning.heartbeat import access, store
from learning.heartbeat.rule import BeatRejected
from lib.parse import parse_id

TAB_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class BeatRequest(NamedTuple):
    """A beat's body, parsed."""

    lesson_id: int
    tab: str
    playing: bool


def _beat_body(request) -> dict:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}
    return {key: request.POST.get(key) for key in ("lesson", "tab", "playing")}


def parse_beat(request) -> BeatRequest | None:
    """The beat in a request's body; None when it is malformed."""
    body = _beat_body(request)
    lesson_id, tab = parse_id(body.get("lesson")), body.get("tab")
    if lesson_id is None or not isinstance(tab, str) or not TAB_ID.fullmatch(tab):
        return None
    return BeatRequest(lesson_id, tab, body.get("playing") not in (False, "false", "0"))


def record_beat(person, lesson: LessonPage, tab: str, playing: bool) -> JsonResponse:
    """Record a checked beat (a paused video's only reads) and answer with the progress."""
    if playing:
        try:
            progress = store.do_record_heartbeat(person, lesson, tab)
        except BeatRejected as rejected:
            return beat_error(rejected.reason, 429)
    else:
        progress = store.lesson_progress_for(person, lesson)
    return beat_answer(
        progress.credited_seconds, lesson.expected_seconds, progress.completed_at is not None
    )


def beat_answer(credited_seconds: int, expected_seconds: int, completed: bool) -> JsonResponse:
    """A recorded beat's answer: the lesson's credit, its length and whether it is complete."""
    return JsonResponse(
        {
            "credited_seconds": credited_seconds,
            "expected_seconds": expected_seconds,
            "completed": completed,
        }
    )


def beat_error(reason: str, status: int) -> JsonResponse:
    """A beat not recorded: ``{"error": reason}`` with ``status``."""
    return JsonResponse({"error": reason}, status=status)


@require_POST
def heartbeat(request):
    """One heartbeat: ``{"lesson": id, "tab": str, "playing": bool?}`` as JSON (with the CSRF
    header) or as a form (``navigator.sendBeacon``, with ``csrfmiddlewaretoken``).

    Time comes from the server clock only; any client time in the body is ignored."""
    if not request.user.is_authenticated:
        return beat_error("not_signed_in", 403)
    beat = parse_beat(request)
    if beat is None:
        return beat_error("malformed", 400)
    person, lesson = access.access_lesson_for_heartbeat(request.user, beat.lesson_id)
    return record_beat(person, lesson, beat.tab, beat.playing)
