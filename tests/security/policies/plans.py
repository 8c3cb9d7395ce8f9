"""Assistance plans (plans/urls.py, plans/wagtail_hooks.py).

Counselors see and change the plans of their own caseload; officers see the plans of their
office's persons and record intake facts; administrators need ``plans.view_bureau_plans``
(granted per user, not by role) to see plans and edit only the rules; learners see only their
own plan on ``/plans/mine/``. The sample plan is a draft of ``learner``'s (east office)."""

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
    scoped,
)

VIEWERS = {"counselor", "other_counselor", "officer", "other_officer"}
EDITORS = {"counselor", "other_counselor"}


def _plan(org) -> dict[str, str]:
    return import_module("tests.plans.helpers").matrix_plan(org)


def _appointment(org) -> dict[str, str]:
    return import_module("tests.plans.helpers").matrix_appointment(org)


def _rule_set(org) -> dict[str, str]:
    rule_set = import_module("plans.models").PlanRuleSet.objects.order_by("version").first()
    return {"pk": str(rule_set.pk)}


def _person(org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}


def _editor_post(outcome: str) -> dict:
    """POST actions on the sample plan: only its own counselor gets past the checks."""
    return roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=outcome, other_counselor=NOTFOUND)


RULES = [
    Rule(
        name="plans_mine",
        get=roles(anonymous=LOGIN, learners=OK, staff=NOTFOUND, outsider=NOTFOUND),
        note="staff and users without a person record have no plan page",
    ),
    Rule(
        name="plans_acknowledge",
        get=roles(anonymous=LOGIN, signed_in=METHOD),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND),
        note="nobody here has an approved plan (the sample is a draft)",
    ),
    Rule(
        name="plans_appointment_ics",
        params=_appointment,
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        post=roles(anonymous=LOGIN, signed_in=METHOD),
        note="a calendar file of the person's own appointment only",
    ),
    Rule(
        name="plans_plan_list",
        get=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            counselor=OK,
            other_counselor=OK,
            officer=OK,
            other_officer=OK,
        ),
        note="administrators only with plans.view_bureau_plans",
    ),
    Rule(
        name="plans_plan_list_results",
        get=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            counselor=OK,
            other_counselor=OK,
            officer=OK,
            other_officer=OK,
        ),
        note="the list's results alone (Wagtail's filters and search refresh them)",
    ),
    Rule(
        name="plans_plan_detail",
        params=_plan,
        get=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            counselor=OK,
            officer=OK,
            other_counselor=NOTFOUND,
            other_officer=NOTFOUND,
        ),
    ),
    Rule(
        name="plans_plan_edit",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=OK, other_counselor=NOTFOUND),
        post=_editor_post(BAD),
        note="empty POST: the form's errors, answered 400, nothing saved",
    ),
    Rule(
        name="plans_plan_approve",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_editor_post(REDIRECT),
        note="without the revision the page sends, nothing is approved",
    ),
    Rule(
        name="plans_plan_revise",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_editor_post(REDIRECT),
        note="a draft cannot be revised: message and back to the plan",
    ),
    Rule(
        name="plans_plan_review",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=REDIRECT, other_counselor=NOTFOUND),
        post=_editor_post(REDIRECT),
        note="only the plan in force is reviewed: a draft sends back to the plan",
    ),
    Rule(
        name="plans_plan_note",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_editor_post(REDIRECT),
        note="an empty note is refused with a message",
    ),
    Rule(
        name="plans_plan_close",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_editor_post(REDIRECT),
        note="no reason given: nothing closed",
    ),
    Rule(
        name="plans_plan_pdf",
        params=_plan,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            counselor=OK,
            officer=OK,
            other_counselor=NOTFOUND,
            other_officer=NOTFOUND,
        ),
    ),
    Rule(name="plans_person", params=_person, get=scoped("person", perm=VIEWERS)),
    Rule(
        name="plans_intake",
        params=_person,
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=NOTFOUND),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=NOTFOUND),
        note="empty POST re-shows the form with errors",
    ),
    Rule(
        name="plans_draft",
        params=_person,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, counselor=REDIRECT, other_counselor=NOTFOUND),
    ),
    Rule(
        name="plans_appointment",
        params=_appointment,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_editor_post(REDIRECT),
        note="empty POST: nothing recorded, message",
    ),
    Rule(
        name="plans_rules",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=METHOD),
        note="the overview only; each need area and level is edited on its own page",
    ),
    Rule(
        name="plans_rules_thresholds",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=BAD),
        note="empty POST: no note, the overview again with the form's errors, 400, nothing saved",
    ),
    Rule(
        name="plans_rules_cell",
        params=lambda org: {"domain": "mental_health", "level": "high"},
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=BAD),
        note="empty POST: no note, the form's errors, answered 400, nothing saved",
    ),
    Rule(
        name="plans_rules_restore",
        params=_rule_set,
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=REDIRECT),
        note="empty POST: no note, nothing restored, message",
    ),
]

OBJECT_PROBES = [
    ("plans_person", "get", lambda obj: scoped(obj, perm=VIEWERS)),
    ("plans_intake", "get", lambda obj: scoped(obj, perm={"officer", "other_officer"})),
]
