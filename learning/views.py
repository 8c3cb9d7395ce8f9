"""Learner views: lesson and course pages (served by Wagtail), heartbeats, quiz answers and
certificates; and the public certificate check (``/verify/<code>/``)."""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.models import CoursePage, LessonPage
from learning import certificates, services
from learning.models import LessonProgress, QuizAttempt
from lib.downloads import attachment
from lib.parse import parse_id
from people.names import mask_name

TAB_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def serve_lesson(request, lesson: LessonPage):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    enrollment = services.enrollment_for_lesson(request.user, lesson, with_progress=True)
    if enrollment is None:
        raise Http404
    person = enrollment.person
    progress = LessonProgress(
        person=person,
        lesson=lesson,
        credited_seconds=enrollment.progress_credited or 0,
        completed_at=enrollment.progress_completed_at,
        quiz_passed=bool(enrollment.progress_quiz_passed),
    )
    attempt = None
    if enrollment.attempt_number is not None:
        attempt = QuizAttempt(
            number=enrollment.attempt_number,
            score=enrollment.attempt_score,
            total=enrollment.attempt_total,
            passed=enrollment.attempt_passed,
        )
    context = lesson.get_context(request)
    context.update(
        person=person,
        progress=progress,
        quiz=lesson.quiz(),
        last_attempt=attempt,
        next_attempt=(attempt.number + 1) if attempt else 1,
        completion_seconds=int(lesson.expected_seconds * services.COMPLETION_SHARE),
        has_video=lesson.has_video(),
    )
    response = TemplateResponse(request, lesson.get_template(request), context)
    response["Cache-Control"] = "no-store, private"
    return response


def serve_course(request, course: CoursePage):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    person = services.access_course_for_learner(request.user, course)
    progress = next((c for c in services.course_progress(person) if c.course.pk == course.pk), None)
    context = course.get_context(request)
    context.update(person=person, course_progress=progress, lessons=course.lessons())
    return TemplateResponse(request, course.get_template(request), context)


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


def parse_beat(request) -> tuple[int, str, bool] | None:
    """``(lesson id, tab, playing)`` from a beat's body; None when it is malformed."""
    body = _beat_body(request)
    lesson_id, tab = parse_id(body.get("lesson")), body.get("tab")
    if lesson_id is None or not isinstance(tab, str) or not TAB_ID.fullmatch(tab):
        return None
    return lesson_id, tab, body.get("playing") not in (False, "false", "0")


def record_beat(person, lesson: LessonPage, tab: str, playing: bool) -> JsonResponse:
    """Record a checked beat (a paused video's only reads) and answer with the progress."""
    if playing:
        try:
            progress = services.do_record_heartbeat(person, lesson, tab)
        except services.BeatRejected as rejected:
            return beat_error(rejected.reason, 429)
    else:
        progress = services.lesson_progress_for(person, lesson)
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
    return _error(reason, status)


@require_POST
def heartbeat(request):
    """One heartbeat: ``{"lesson": id, "tab": str, "playing": bool?}`` as JSON (with the CSRF
    header) or as a form (``navigator.sendBeacon``, with ``csrfmiddlewaretoken``).

    Time comes from the server clock only; any client time in the body is ignored. Most JSON
    beats are answered before reaching this view, by ``learning.fastpath`` with the same
    checks; this view answers the rest (and every beat when that middleware is absent)."""
    if not request.user.is_authenticated:
        return _error("not_signed_in", 403)
    beat = parse_beat(request)
    if beat is None:
        return _error("malformed", 400)
    lesson_id, tab, playing = beat
    person, lesson = services.access_lesson_for_heartbeat(request.user, lesson_id)
    return record_beat(person, lesson, tab, playing)


@require_POST
@login_required
def submit_quiz(request, lesson_id: int):
    person, lesson = services.access_lesson_for_learner(request.user, lesson_id)
    quiz = lesson.quiz()
    if quiz is None:
        raise Http404
    answers = {q.id: request.POST.getlist(f"q-{q.id}") for q in quiz.questions}
    number = request.POST.get("attempt", "")
    try:
        attempt = services.do_submit_quiz(person, lesson, answers, parse_id(number, maximum=1000))
    except services.InvalidAnswers as error:
        messages.error(request, str(error))
    except services.QuizAlreadySubmitted:
        messages.error(request, _("These answers were already submitted."))
    else:
        if attempt.passed:
            messages.success(request, _("Well done: you passed the quiz."))
        else:
            messages.warning(request, _("Not passed yet. Read the explanations and try again."))
    return HttpResponseRedirect(f"{lesson.url}#quiz")


# --- Certificates ---------------------------------------------------------------------------


@login_required
def certificate_download(request, course_id: int):
    """The signed-in learner's own certificate for a completed course, as PDF (others: 404)."""
    certificate = certificates.access_own_certificate(request.user, course_id)
    if certificates.is_revoked(certificate):
        return TemplateResponse(
            request, "learning/certificate_revoked.html", {"certificate": certificate}, status=410
        )
    body = certificates.certificate_pdf(
        certificate, certificates.verification_url(certificate, request)
    )
    return attachment(body, "application/pdf", certificates.certificate_filename(certificate))


def verify_certificate(request, code: str):
    """Public (no sign-in): confirms a certificate shows only the course, the completion date
    and a masked name. An unknown or malformed code gets a friendly page with status 404."""
    certificate = certificates.verify(code)
    context = {}
    if certificate is None:
        response = TemplateResponse(request, "learning/verify_not_found.html", context, status=404)
    else:
        context.update(
            certificate=certificate,
            masked_name=mask_name(certificate.person_name),
            formatted_code=certificates.format_code(certificate.code),
        )
        response = TemplateResponse(request, "learning/verify.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
