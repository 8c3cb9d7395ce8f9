"""Video roll-calls (rollcall/urls.py, rollcall/wagtail_hooks.py).

Officers and administrators make calls to the persons they see (``Person.objects.visible_to``):
the west officer gets 404 for the east learner's calls; other staff are refused (403). A
person sees only their own calls. The sample call is to ``learner`` (east office), joined,
its room still open. POSTs carry an empty body: the forms refuse it and redirect with a
message; a join answers the embed, or 409 when the video server does not answer (no Jitsi
server runs in the tests)."""

from __future__ import annotations

from importlib import import_module

from tests.security.matrix import (
    ACCEPT,
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

CALLERS = {"officer", "other_officer", "administrator"}


def _sample(name: str):
    return lambda org: getattr(import_module("tests.rollcall.helpers"), name)(org)


def _person(org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}


def _callers(outcome, *, scoped_to_east: bool = True) -> dict:
    spec = roles(non_staff=LOGIN, staff=FORBIDDEN, officer=outcome, administrator=outcome)
    spec["other_officer"] = NOTFOUND if scoped_to_east else outcome
    return spec


JOINED = frozenset({OK, "http 409"})

RULES = [
    # ---- the person's pages
    Rule(
        name="rollcall_mine",
        get=roles(anonymous=LOGIN, signed_in=OK),
        note="everyone signed in sees their own (staff: an empty list)",
    ),
    Rule(
        name="rollcall_call",
        params=_sample("matrix_target"),
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        note="learner's own call only",
    ),
    Rule(
        name="rollcall_join",
        params=_sample("matrix_target"),
        get=roles(everyone=METHOD),
        post=roles(anonymous=FORBIDDEN, signed_in=NOTFOUND, learner=JOINED),
        note="JSON: the embed, or 409 once the call is over / the server does not answer",
    ),
    # ---- the officer's pages (Wagtail admin)
    Rule(
        name="rollcall_admin_index",
        get=_callers(OK, scoped_to_east=False),
    ),
    Rule(
        name="rollcall_admin_start",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(REDIRECT, scoped_to_east=False),
        note="empty form: a message and back to the index",
    ),
    Rule(
        name="rollcall_admin_spot",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(REDIRECT, scoped_to_east=False),
        note="empty form: a message and back to the index",
    ),
    Rule(name="rollcall_admin_person", params=_person, get=_callers(OK)),
    Rule(
        name="rollcall_admin_call_person",
        params=_person,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(REDIRECT),
        note="starts a call (not possible without a video server) and redirects",
    ),
    Rule(name="rollcall_admin_call", params=_sample("matrix_call"), get=_callers(OK)),
    Rule(name="rollcall_admin_target", params=_sample("matrix_target"), get=_callers(OK)),
    Rule(
        name="rollcall_admin_join",
        params=_sample("matrix_target"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(JOINED),
    ),
    Rule(
        name="rollcall_admin_confirm",
        params=_sample("matrix_target"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(REDIRECT),
        note="empty form: a message and back to the call",
    ),
    Rule(
        name="rollcall_admin_excuse",
        params=_sample("matrix_target"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_callers(REDIRECT),
        note="empty form: a message and back to the call",
    ),
    Rule(
        name="rollcall_admin_policy",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="administrators only; an empty POST re-shows the form with its errors",
    ),
    Rule(
        name="rollcall_admin_policy_restore",
        params=lambda org: {"version": "1"},
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=REDIRECT),
        note="administrators only; an empty POST (no note) says why and goes back, nothing saved",
    ),
]

OBJECT_PROBES = [
    ("rollcall_admin_person", "get", lambda obj: scoped(obj, perm=CALLERS)),
]

# The board socket of a call to the east office's person: the east officer and the
# administrator (bureau, above east) are admitted; the west officer sees nobody in it, and
# anyone who may not make calls is refused before the handshake completes.
WS_POLICY = {
    "ws/rollcall/<int:pk>/": roles(everyone=REFUSE, officer=ACCEPT, administrator=ACCEPT),
}
WS_PARAMS = {"ws/rollcall/<int:pk>/": _sample("matrix_call")}
