"""Assessments (assessments/urls.py, assessments/wagtail_hooks.py)."""

from __future__ import annotations

from importlib import import_module

from tests.security.matrix import FORBIDDEN, LOGIN, METHOD, NOTFOUND, OK, REDIRECT, Rule, roles

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
        name="assessments_review_queue",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=OK),
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
