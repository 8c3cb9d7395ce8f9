"""Learner views: lesson and course pages (served by Wagtail), quiz answers and
certificates; and the public certificate check (``/verify/<code>/``). The heartbeat's view is
``learning.heartbeat.views``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.models import CoursePage, LessonPage
from learning import certificates, quizzes, services
from learning.certificate_pdf import certificate_pdf
from learning.heartbeat.rule import COMPLETION_SHARE
from learning.models import LessonProgress, QuizAttempt
from lib.downloads import attachment
from lib.parse import parse_id
from lib.study_time import study_time
from people.names import mask_name


def serve_lesson(
    request,
    lesson: LessonPage,
    answers: dict[str, list[str]] | None = None,
    missing: list[int] = (),
):
    """The lesson page; ``answers`` and ``missing`` re-show a refused quiz submission with
    the learner's choices still ticked and the questions left marked."""
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
    completion_seconds = int(lesson.expected_seconds * COMPLETION_SHARE)
    quiz = lesson.quiz()
    # Credit may run past what completion needs; "44 / 36 seconds" reads like an error.
    shown_seconds = min(progress.credited_seconds, completion_seconds)
    # A lesson ends with the way on: back to its course, and on to the next lesson.
    context.update(
        course=enrollment.course,  # read with the enrollment
        next_lesson=lesson.get_next_siblings().type(LessonPage).live().order_by("path").first(),
        person=person,
        progress=progress,
        quiz=quiz,
        question_rows=quizzes.question_rows(quiz, answers, missing) if quiz else [],
        missing=missing,
        last_attempt=attempt,
        next_attempt=(attempt.number + 1) if attempt else 1,
        completion_seconds=completion_seconds,
        shown_seconds=shown_seconds,
        study_time=study_time(shown_seconds, completion_seconds),
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
    # The course's lessons come with the progress (a fixed number of queries, not one a lesson).
    rows = progress.rows if progress is not None else []
    context.update(person=person, course_progress=progress, lesson_rows=rows)
    return TemplateResponse(request, course.get_template(request), context)


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
        attempt = quizzes.do_submit_quiz(person, lesson, answers, parse_id(number, maximum=1000))
    except quizzes.InvalidAnswers as error:
        # Nothing is stored; the page comes back with the answers given still ticked.
        missing = quizzes.unanswered(quiz, answers)
        messages.error(request, quizzes.missing_answers_message(missing) if missing else str(error))
        return serve_lesson(request, lesson, answers, missing)
    except quizzes.QuizAlreadySubmitted:
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
    body = certificate_pdf(certificate, certificates.verification_url(certificate, request))
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
