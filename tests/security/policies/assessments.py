"""Assessments (assessments/urls.py, assessments/wagtail_hooks.py)."""

from __future__ import annotations

from importlib import import_module

from tests.security.matrix import (
    BAD,
    FORBIDDEN,
    LOGIN,
    METHOD,
    NOTFOUND,
    OK,
    REDIRECT,
    Rule,
    roles,
)


def _critical_assignment(org) -> dict[str, str]:
    """The assignment behind the sample result (its PHQ-9 item 9 is critical)."""
    from assessments.models import Result

    pk = import_module("tests.assessments.helpers").matrix_result(org)["pk"]
    return {"pk": str(Result.objects.get(pk=pk).response.assignment_id)}


RULES = [
    # ---- assessments (assessments/urls.py, assessments/wagtail_hooks.py): results only for the
    # person's own counselors (administrators need assessments.view_result, not granted by role)
    Rule(
        name="assessments_mine",
        get=roles(anonymous=LOGIN, learners=OK, staff=NOTFOUND, outsider=NOTFOUND),
    ),
    Rule(
        name="assessments_take",
        get=roles(anonymous=LOGIN, learners=REDIRECT, staff=NOTFOUND, outsider=NOTFOUND),
        post=roles(anonymous=LOGIN, learners=REDIRECT, staff=NOTFOUND, outsider=NOTFOUND),
        note="learners first acknowledge the privacy notice; nobody else has assignments",
    ),
    Rule(
        name="assessments_support",
        params=_critical_assignment,
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        post=roles(anonymous=LOGIN, signed_in=METHOD),
        note="the help page after learner's own critical answer; anyone else's id is 404",
    ),
    Rule(
        name="assessments_review_queue",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=OK),
    ),
    Rule(
        name="assessments_review_queue_results",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=OK),
        note="the queue's results alone (Wagtail's filters and search refresh them)",
    ),
    Rule(
        name="assessments_assign",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=OK),
        note="empty POST re-shows the form with errors",
    ),
    Rule(
        name="assessments_result_detail",
        params=lambda org: import_module("tests.assessments.helpers").matrix_result(org),
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=NOTFOUND),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=NOTFOUND),
        note="a result of learner's; empty POST changes nothing",
    ),
    Rule(
        name="assessments_result_pdf",
        params=lambda org: import_module("tests.assessments.helpers").matrix_result(org),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=NOTFOUND),
    ),
]


def _schedule_rule(org) -> dict[str, str]:
    """A default schedule rule (created by migration 0005)."""
    from assessments.models import ScheduleRule

    return {"pk": str(ScheduleRule.objects.order_by("pk").values_list("pk", flat=True)[0])}


ADMINISTRATORS_ONLY = roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK)

RULES += [
    # Population statistics: administrators (assessments.view_statistics), counts only.
    Rule(name="assessments_statistics", get=ADMINISTRATORS_ONLY),
    Rule(
        name="assessments_statistics_export",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=frozenset({OK, BAD})),
        note="POST: a CSV of the first loaded questionnaire; 400 while none is loaded",
    ),
    # The automatic schedule (Wagtail ModelViewSet, Settings menu): administrators only.
    Rule(name="assessments_schedule:index", get=ADMINISTRATORS_ONLY),
    Rule(name="assessments_schedule:index_results", get=ADMINISTRATORS_ONLY),
    Rule(
        name="assessments_schedule:add",
        get=ADMINISTRATORS_ONLY,
        post=ADMINISTRATORS_ONLY,
        note="empty POST re-shows the form with errors",
    ),
    Rule(
        name="assessments_schedule:edit",
        params=_schedule_rule,
        get=ADMINISTRATORS_ONLY,
        post=ADMINISTRATORS_ONLY,
        note="empty POST re-shows the form with errors",
    ),
    *(
        Rule(name=f"assessments_schedule:{name}", params=_schedule_rule, get=ADMINISTRATORS_ONLY)
        for name in ("delete", "history", "history_results", "usage", "copy")
    ),
]
