"""Courses and learning (learning/urls.py, learning/wagtail_hooks.py)."""

from __future__ import annotations

from tests.security.matrix import ANY, BAD, FORBIDDEN, LOGIN, METHOD, NOTFOUND, Rule, roles

RULES = [
    Rule(
        name="learning_heartbeat",
        get=roles(everyone=METHOD),
        post=roles(anonymous=FORBIDDEN, signed_in=BAD),
        note="JSON API: empty body is malformed; anonymous 403, never a redirect",
    ),
    Rule(
        name="learning_quiz",
        get=roles(everyone=METHOD),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND),
        note="lesson 1 does not exist / nobody is enrolled",
    ),
    Rule(
        route=r"admin/study-quotas/.*",
        get=roles(non_staff=LOGIN, staff=frozenset({FORBIDDEN, NOTFOUND}), administrator=ANY),
        note="monthly quotas: administrators only (object views: 404 for a missing id)",
    ),
]
