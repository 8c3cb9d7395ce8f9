"""Learner-facing questionnaire pages (front end, phone first, no JavaScript needed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments.models import CrisisLines, Result, Review
from assessments.services import learner_questionnaires
from assessments.skips import shown_items
from assessments.taking import (
    AlreadySubmitted,
    AssessmentError,
    IncompleteResponse,
    access_assignment_for_learner,
    answers_of,
    do_save_answer,
    do_submit,
    first_unanswered,
    shown_neighbour,
)
from people.privacy import person_of, require_privacy_ack


def _thank_you() -> str:
    return _("Thank you. Your counselor will go through this with you.")


def _after_submit(request, assignment) -> HttpResponse:
    """A critical answer leads straight to the help page; otherwise back to the list."""
    if Result.objects.filter(response__assignment=assignment, critical=True).exists():
        return redirect("assessments_support", pk=assignment.pk)
    messages.success(request, _thank_you())
    return redirect("assessments_mine")


@login_required
@require_GET
def support(request, pk: int):
    """The calm page after a worrying answer: a counselor will call today, what to do in
    danger now, the national hotline and the bureau's duty number. Shows no score or item."""
    assignment = access_assignment_for_learner(request.user, pk)
    if not Result.objects.filter(response__assignment=assignment, critical=True).exists():
        return redirect("assessments_mine")
    response = render(
        request,
        "assessments/support.html",
        {"lines": CrisisLines.load(request_or_site=request)},
    )
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def my_questionnaires(request):
    if person_of(request.user) is None:
        raise Http404("Only supervised persons answer questionnaires")
    summaries = (
        Review.objects.released_to(request.user)
        .select_related("result__instrument_version__instrument")
        .order_by("-signed_at")
    )
    return render(
        request,
        "assessments/my_questionnaires.html",
        {"assignments": learner_questionnaires(request.user), "summaries": summaries},
    )


def _item_url(pk: int, number: int | None) -> str:
    url = reverse("assessments_take", args=[pk])
    return f"{url}?item={number}" if number else f"{url}?review=1"


@login_required
@require_privacy_ack
@require_http_methods(["GET", "POST"])
def take(request, pk: int):
    """One item per screen. POST ``item``+``option`` saves an answer and moves on; POST
    ``submit`` scores the questionnaire once. Items the skip rules hide are never shown:
    Next, Back and the review go from shown item to shown item (``skips.shown_items``)."""
    assignment = access_assignment_for_learner(request.user, pk)
    if not assignment.is_open:
        messages.info(request, _thank_you())
        return redirect("assessments_mine")
    definition = assignment.instrument_version.as_definition()
    count = len(definition.items)
    status = 200
    error = ""
    if request.method == "POST":
        if "submit" in request.POST:
            try:
                do_submit(assignment)
            except IncompleteResponse as exc:
                messages.warning(request, _("Please answer every question before you send."))
                return redirect(_item_url(pk, exc.missing[0]))
            except AlreadySubmitted:
                return _after_submit(request, assignment)
            return _after_submit(request, assignment)
        item = request.POST.get("item")
        try:
            do_save_answer(assignment, item, request.POST.get("option"))
        except AlreadySubmitted:
            messages.info(request, _thank_you())
            return redirect("assessments_mine")
        except AssessmentError:
            error = _("That answer could not be saved. Please choose one of the options.")
            status = 400
        else:
            answers = answers_of(assignment)
            shown = shown_items(definition, answers)
            following = shown_neighbour(shown, int(item), 1)
            if following is not None and answers[following - 1] is not None:
                following = first_unanswered(answers, shown)
            return redirect(_item_url(pk, following))
    answers = answers_of(assignment)
    shown = shown_items(definition, answers)
    number = _requested_item(request, count, answers, shown)
    language = get_language()
    context = {
        "assignment": assignment,
        "title": definition.title.for_language(language),
        "description": definition.description.for_language(language),
        "count": count,
        # Skipped items count as done, so the bar fills when the last shown item is answered.
        "answered": sum(a is not None or not v for a, v in zip(answers, shown, strict=True)),
        "error": error,
    }
    if number is None:
        missing = [
            i + 1
            for i, (a, visible) in enumerate(zip(answers, shown, strict=True))
            if a is None and visible
        ]
        last = shown_neighbour(shown, count + 1, -1)
        context.update({"missing": missing, "last": last})
        return render(request, "assessments/take_review.html", context, status=status)
    item = definition.items[number - 1]
    chosen = answers[number - 1]
    context.update(
        {
            "number": number,
            "text": item.text.for_language(language),
            "options": [
                {"index": i, "label": option.label.for_language(language), "chosen": i == chosen}
                for i, option in enumerate(item.options)
            ],
            "previous": shown_neighbour(shown, number, -1),
            "next_url": _item_url(pk, shown_neighbour(shown, number, 1))
            if chosen is not None
            else "",
        }
    )
    return render(request, "assessments/take_item.html", context, status=status)


def _requested_item(request, count: int, answers: list, shown: list[bool]) -> int | None:
    """The item to show: ``?item=N`` if valid and shown, the review screen on ``?review``, else
    the first unanswered shown item (so a closed tab resumes where it stopped)."""
    if request.method == "POST":
        raw = request.POST.get("item")
    else:
        raw = request.GET.get("item")
        if raw is None and "review" in request.GET:
            return None
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return first_unanswered(answers, shown)
    if 1 <= number <= count and shown[number - 1]:
        return number
    return first_unanswered(answers, shown)
