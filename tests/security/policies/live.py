"""Live lectures (live/urls.py, live/wagtail_hooks.py)."""

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


def _sample(name: str):
    return lambda org: getattr(import_module("tests.live.helpers"), name)(org)


DENIED = frozenset({FORBIDDEN, NOTFOUND})

RULES = [
    # ---- live (webhooks)
    # Jitsi's servers post here, never a browser: no role changes anything. The secrets are set
    # for this module by ``live_webhook_secrets`` below (unset, both would answer 503 "not
    # configured", which the matrix counts as 5xx). An empty POST has no signature / token:
    # JaaS answers 400, prosody 401 with ``WWW-Authenticate: Bearer``; nothing is stored.
    Rule(name="live_hook_jaas", get=roles(everyone=METHOD), post=roles(everyone=BAD)),
    Rule(name="live_hook_prosody", get=roles(everyone=METHOD), post=roles(everyone="http 401")),
    # ---- the lecture page: its audience (learner, east office) and its lecturer; 404 otherwise
    Rule(
        name="live_lecture",
        params=_sample("matrix_lecture"),
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK, lecturer=OK),
        note="an upcoming lecture by lecturer for the east office",
    ),
    Rule(
        name="live_makeup",
        params=_sample("matrix_makeup"),
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        note="learner's own makeup only",
    ),
    Rule(
        name="live_makeup_heartbeat",
        get=roles(everyone=METHOD),
        post=roles(anonymous=FORBIDDEN, signed_in=BAD),
        note="JSON API: empty body is malformed; anonymous 403, never a redirect",
    ),
    # ---- attendance table and overrides (Wagtail admin)
    Rule(
        name="live_lecture_attendance",
        params=_sample("matrix_lecture"),
        get=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            lecturer=OK,
            officer=OK,
            other_officer=NOTFOUND,
            administrator=OK,
        ),
        note="lecturer's lecture for the east office: west officer does not see it",
    ),
    Rule(
        name="live_attendance_override",
        params=_sample("matrix_attendance"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            lecturer=REDIRECT,
            officer=REDIRECT,
            other_officer=NOTFOUND,
        ),
        note="learner's row; an empty POST has no reason: back to the table, nothing changed",
    ),
    # ---- lectures (ModelViewSet): lecturers their own, officers/administrators in scope
    *(
        Rule(
            name=name,
            get=roles(
                non_staff=LOGIN,
                staff=OK,
                counselor=FORBIDDEN,
                other_counselor=FORBIDDEN,
                editor=FORBIDDEN,
            ),
        )
        for name in ("lectures:index", "lectures:index_results")
    ),
    Rule(
        name="lectures:add",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, lecturer=OK, administrator=OK),
    ),
    Rule(
        name="lectures:edit",
        params=_sample("matrix_lecture"),
        get=roles(non_staff=LOGIN, staff=DENIED, lecturer=OK, administrator=OK),
        note="nobody else may change lecturer's lecture",
    ),
    Rule(
        name="lectures:delete",
        params=_sample("matrix_lecture"),
        get=roles(non_staff=LOGIN, staff=DENIED),
        note="lectures are never deleted in the admin (attendance hangs on them)",
    ),
    *(
        Rule(
            name=name,
            params=_sample("matrix_lecture"),
            get=roles(non_staff=LOGIN, staff=DENIED, lecturer=OK, administrator=OK),
            note="Wagtail shows history to those who may change the lecture",
        )
        for name in ("lectures:history", "lectures:history_results", "lectures:usage")
    ),
    # ---- attendance policy versions: administrators only
    *(
        Rule(
            name=f"attendance_policies:{view}",
            params=_sample("matrix_policy") if pk else None,
            get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        )
        for view, pk in (
            ("index", False),
            ("index_results", False),
            ("add", False),
            ("edit", True),
            ("history", True),
            ("history_results", True),
            ("usage", True),
        )
    ),
    Rule(
        name="attendance_policies:delete",
        params=_sample("matrix_policy"),
        get=roles(non_staff=LOGIN, staff=FORBIDDEN),
        note="a policy version is never deleted",
    ),
]
