"""Live lectures (live/urls.py, live/wagtail_hooks.py)."""

from __future__ import annotations

from importlib import import_module

from tests.security.matrix import (
    ACCEPT,
    BAD,
    FORBIDDEN,
    LOGIN,
    METHOD,
    NOTFOUND,
    OK,
    REDIRECT,
    REFUSE,
    Rule,
    roles,
    scoped,
)


def _sample(name: str):
    return lambda org: getattr(import_module("tests.live.helpers"), name)(org)


def _centre(name: str):
    return lambda org: getattr(import_module("tests.live.centre_helpers"), name)(org)


# holders of people.view_person see a person's lecture history (in their scope)
HISTORY_ROLES = {"officer", "other_officer", "counselor", "other_counselor", "administrator"}


DENIED = frozenset({FORBIDDEN, NOTFOUND})

RULES = [
    # ---- live (webhooks)
    # Jitsi's servers post here, never a browser: no role changes anything. The secrets are set
    # for this module by ``live_webhook_secrets`` below (unset, both would answer 503 "not
    # configured", which the matrix counts as 5xx). An empty POST has no signature / token:
    # JaaS answers 400, prosody 401 with ``WWW-Authenticate: Bearer``; nothing is stored.
    Rule(name="live_hook_jaas", get=roles(everyone=METHOD), post=roles(everyone=BAD)),
    Rule(name="live_hook_prosody", get=roles(everyone=METHOD), post=roles(everyone="http 401")),
    # the prosody event_sync plugin's own URLs (no trailing slash): the same bearer token first
    Rule(
        name="live_hook_prosody_room_created",
        get=roles(everyone=METHOD),
        post=roles(everyone="http 401"),
    ),
    Rule(
        name="live_hook_prosody_room_destroyed",
        get=roles(everyone=METHOD),
        post=roles(everyone="http 401"),
    ),
    Rule(
        name="live_hook_prosody_occupant_joined",
        get=roles(everyone=METHOD),
        post=roles(everyone="http 401"),
    ),
    Rule(
        name="live_hook_prosody_occupant_left",
        get=roles(everyone=METHOD),
        post=roles(everyone="http 401"),
    ),
    # anything else under .../events/ (a trailing slash, an event we do not know): a JSON 404
    # where APPEND_SLASH would have redirected the POST
    Rule(
        name="live_hook_prosody_unknown", get=roles(everyone=METHOD), post=roles(everyone=NOTFOUND)
    ),
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
        name="live_lecture_roster",
        params=_sample("matrix_lecture"),
        get=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            lecturer=OK,
            officer=OK,
            other_officer=NOTFOUND,
            administrator=OK,
        ),
        note="the live roster: who may see the lecture's attendance; west officer does not see it",
    ),
    Rule(
        name="live_attendance_override",
        params=_sample("matrix_attendance"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        # README "Roles": the officer "may override with a reason"; the lecturer sees their
        # lecture's attendance and changes none of it; the administrator sets the attendance
        # policy but overrides no row; counselors and editors see no attendance.
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            officer=REDIRECT,
            other_officer=NOTFOUND,
        ),
        post_data={"status": "present", "reason": "到中心现场参加"},
        note="learner's absent row set to present with a reason: the east officer's change "
        "goes through (back to the table); every other staff role is refused",
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
    # ---- check-in at the centre (live/centre_views.py)
    Rule(
        name="live_centre_scan",
        params=_centre("matrix_centre_scan"),
        get=roles(anonymous=LOGIN, signed_in=FORBIDDEN, learner=OK),
        note="the current code of a running lecture at the centre for the east office: its "
        "audience member is checked in; anyone else is told they are not on the list",
    ),
    *(
        Rule(
            name=name,
            params=_centre("matrix_centre_lecture"),
            get=roles(
                non_staff=LOGIN,
                staff=FORBIDDEN,
                lecturer=OK,
                officer=OK,
                other_officer=NOTFOUND,
                administrator=OK,
            ),
            note="who may see the lecture's attendance; west officer does not see it",
        )
        for name in ("live_centre_screen", "live_centre_roster")
    ),
    Rule(
        name="live_centre_mark",
        params=_centre("matrix_centre_lecture"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            lecturer=REDIRECT,
            officer=REDIRECT,
            other_officer=NOTFOUND,
            administrator=REDIRECT,
        ),
        note="an empty POST names nobody: back to the list, nothing changed",
    ),
    # ---- attendance reports (live/report_views.py)
    Rule(
        name="live_attendance_export",
        params=_sample("matrix_lecture"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            lecturer=BAD,
            officer=BAD,
            other_officer=NOTFOUND,
            administrator=BAD,
        ),
        note="an empty POST names no format: 400, nothing exported",
    ),
    Rule(
        name="live_person_history",
        params=_centre("matrix_person"),
        get=scoped("person", perm=HISTORY_ROLES),
    ),
    Rule(
        name="live_person_history_export",
        params=_centre("matrix_person"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            officer=BAD,
            other_officer=BAD,
            counselor=BAD,
            other_counselor=BAD,
            administrator=BAD,
        ),
        note="the format is checked before the person: an empty POST is 400 for every holder "
        "of people.view_person (the object probe below checks the scope)",
    ),
]

OBJECT_PROBES = [
    ("live_person_history", "get", lambda obj: scoped(obj, perm=HISTORY_ROLES)),
]

# The lecture socket of a running lecture (east office): its audience member (learner) as an
# attendee, and those who may watch the roster (lecturer, east officer, administrator); the
# close happens before the handshake completes for everyone else.
WS_POLICY = {
    "ws/live/<int:pk>/": roles(
        everyone=REFUSE, learner=ACCEPT, lecturer=ACCEPT, officer=ACCEPT, administrator=ACCEPT
    )
}
WS_PARAMS = {"ws/live/<int:pk>/": _sample("matrix_running_lecture")}
