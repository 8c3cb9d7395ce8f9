"""What assessments shows on the staff person page (``people.person_page``).

Who sees what follows the results rule (``models._results_scope``, docs/security.md "Roles
matrix"): the person's own counselors, and administrators holding ``assessments.view_result``,
see scores, bands and alerts; everyone else who sees the person (officers, administrators
without the permission) sees only which questionnaires were given, whether they were answered
and that a review was signed, on which day — never a score, a band or an alert."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import OPEN_STATUSES, Alert, Assignment
from assessments.report import scale_profile
from people.models import Person, User
from people.person_page import (
    Fact,
    TimelineEntry,
    Tone,
    Visit,
    register_section,
    register_summary_fact,
    register_timeline_source,
)

RECENT_ASSIGNMENTS = 8


def results_allowed(person: Person, user: User) -> bool:
    """Whether ``user`` may see ``person``'s results: the one scoping rule, asked of the
    person's assignments (no assignments, nothing to show either way)."""
    return Assignment.objects.visible_to(user).filter(person=person).exists()


def _assignments(person: Person, with_results: bool):
    rows = Assignment.objects.filter(person=person).select_related(
        "instrument_version__instrument", "response__result__review"
    )
    if with_results:
        # The result names the version that scored it (its bands and scales).
        rows = rows.select_related("response__result__instrument_version")
    else:
        rows = rows.defer(
            "instrument_version__definition",
            "response__answers",
            "response__result__scales",
            "response__result__critical_items",
            "response__result__critical",
            "response__result__max_severity",
            "response__result__review__interpretation",
            "response__result__review__released_summary",
        )
    return rows


def _result(assignment: Assignment):
    response = getattr(assignment, "response", None)
    return getattr(response, "result", None) if response is not None else None


def _review(result):
    return getattr(result, "review", None) if result is not None else None


def questionnaire_facts(visit: Visit) -> list[Fact]:
    person, user = visit.person, visit.viewer
    counts = Assignment.objects.filter(person=person).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES))
    )
    facts = []
    if counts["open"]:
        facts.append(Fact(_("Questionnaires to answer"), str(counts["open"]), Tone.WARN))
    if visit.allows(results_allowed):
        alerts = Alert.objects.visible_to(user).filter(person=person).unacknowledged().count()
        if alerts:
            facts.append(Fact(_("Unacknowledged alerts"), str(alerts), Tone.BAD))
    return facts


def questionnaires_section(visit: Visit) -> dict | None:
    allowed = visit.allows(results_allowed)
    rows = []
    for assignment in _assignments(visit.person, allowed)[:RECENT_ASSIGNMENTS]:
        result = _result(assignment)
        review = _review(result)
        row = {
            "assignment": assignment,
            "title": str(assignment.instrument_version.instrument),
            "submitted_at": assignment.response.submitted_at if result else None,
            "reviewed_at": review.signed_at if review is not None else None,
        }
        if allowed and result is not None:
            row["result"] = result
            row["url"] = reverse("assessments_result_detail", args=[result.pk])
            row["scales"] = scale_profile(result)
        rows.append(row)
    return {"rows": rows, "results_allowed": allowed}


def questionnaire_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    allowed = visit.allows(results_allowed)
    entries = []
    for assignment in _assignments(visit.person, False).order_by("-assigned_at")[:limit]:
        title = str(assignment.instrument_version.instrument)
        result = _result(assignment)
        url = reverse("assessments_result_detail", args=[result.pk]) if allowed and result else ""
        entries.append(
            TimelineEntry(
                assignment.assigned_at,
                "questionnaires",
                _("Questionnaire given: %(title)s") % {"title": title},
                assignment.get_reason_display(),
            )
        )
        if result is not None and assignment.response.submitted_at:
            entries.append(
                TimelineEntry(
                    assignment.response.submitted_at,
                    "questionnaires",
                    _("Questionnaire answered: %(title)s") % {"title": title},
                    "",
                    url,
                )
            )
        review = _review(result)
        if review is not None and review.signed_at:
            entries.append(
                TimelineEntry(
                    review.signed_at,
                    "questionnaires",
                    _("Review signed: %(title)s") % {"title": title},
                    "",
                    url,
                    Tone.GOOD,
                )
            )
    return entries


def register() -> None:
    register_summary_fact("questionnaires", 40, questionnaire_facts)
    register_section(
        "questionnaires",
        40,
        gettext_lazy("Questionnaires"),
        questionnaires_section,
        "assessments/person_page/questionnaires.html",
    )
    register_timeline_source(
        "questionnaires", 40, gettext_lazy("Questionnaires"), questionnaire_events
    )
