"""Shared vocabulary of the permission matrix: roles, outcome classes, ``Rule`` and helpers.

``tests/security/test_permission_matrix.py`` walks every route; each app declares what every
role must get for its own URLs in ``tests/security/policies/<app>.py`` (``RULES``, and
optionally ``OBJECT_PROBES`` and ``WS_POLICY``), built from the helpers here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib import messages

from tests.factories import Org

# --- Roles ----------------------------------------------------------------------------------

LEARNERS = ("learner", "other_learner")
STAFF = (
    "counselor",
    "other_counselor",
    "lecturer",
    "officer",
    "other_officer",
    "administrator",
    "editor",
)
# ``outsider`` is signed in but holds no role: it must never get more than a learner.
SIGNED_IN = (*LEARNERS, *STAFF, "outsider")
ROLES = ("anonymous", *SIGNED_IN)
NON_STAFF = ("anonymous", *LEARNERS, "outsider")
GROUPS = {
    "learners": LEARNERS,
    "staff": STAFF,
    "signed_in": SIGNED_IN,
    "everyone": ROLES,
    "non_staff": NON_STAFF,
}

# --- Outcome classes ------------------------------------------------------------------------

OK, LOGIN, FORBIDDEN, NOTFOUND, METHOD, REDIRECT, BAD = (
    "ok",
    "login",
    "forbidden",
    "notfound",
    "method",
    "redirect",
    "bad",
)
ANY = "any (but never 5xx)"
Expect = str | frozenset[str]

LOGIN_PATHS = {"/accounts/login/", "/admin/login/", "/django-admin/login/", "/_util/login/"}
WAGTAIL_ADMIN_HOME = "/admin/"


def classify(response) -> str:
    code = response.status_code
    if code >= 500:
        return f"5xx ({code})"
    if 200 <= code < 300:
        return OK
    if code in (301, 302, 303, 307, 308):
        path = urlsplit(response["Location"]).path
        if path in LOGIN_PATHS:
            return LOGIN
        # Wagtail answers a permission denial with a redirect to the admin home plus an error
        # message (``wagtail.admin.auth.permission_denied``); only this request's messages count.
        queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
        if path == WAGTAIL_ADMIN_HOME and any(m.level == messages.ERROR for m in queued):
            return FORBIDDEN
        return REDIRECT
    return {400: BAD, 403: FORBIDDEN, 404: NOTFOUND, 405: METHOD}.get(code, f"http {code}")


def matches(outcome: str, expected: Expect) -> bool:
    if outcome.startswith("5xx"):
        return False
    if expected == ANY:
        return True
    if isinstance(expected, frozenset):
        return outcome in expected
    return outcome == expected


def roles(**spec: Expect) -> dict[str, Expect]:
    """``roles(non_staff=LOGIN, staff=OK, lecturer=NOTFOUND)``: groups expand, later keys win."""
    result: dict[str, Expect] = {}
    for key, value in spec.items():
        for role in GROUPS.get(key, (key,)):
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            result[role] = value
    return result


# --- Object scope: who may see which person (README "Roles"; docs/architecture.md) ----------

SCOPE = {
    "person": {"administrator", "officer", "counselor"},  # learner's record, east office
    "other_person": {"administrator", "other_officer", "other_counselor"},  # west office
    "missing": set(),  # an id that does not exist
}


def scoped(obj: str, allowed: Expect = OK, *, perm: set[str] | None = None) -> dict[str, Expect]:
    """Non-staff go to login; staff see ``obj`` only if in scope (else 404). With ``perm``,
    staff without that permission are refused before the lookup (no existence leak)."""
    spec = roles(non_staff=LOGIN)
    for role in STAFF:
        if perm is not None and role not in perm:
            spec[role] = FORBIDDEN
        else:
            spec[role] = allowed if role in SCOPE[obj] else NOTFOUND
    return spec


def object_pk(org: Org, obj: str) -> int:
    if obj == "missing":
        return 987654
    return getattr(org, obj).pk


# --- The policy table -----------------------------------------------------------------------

ParamFn = Callable[[Org], dict[str, str]]


@dataclass(frozen=True)
class Rule:
    """``name``: exact URL name (``ns:name``); ``route``: regex fullmatched against the route;
    ``module``: the view's module must start with it. ``post``: also POST (empty body unless
    ``post_data``) and expect these outcomes. ``params``: sample values for this route."""

    get: dict[str, Expect]
    name: str | None = None
    route: str | None = None
    module: str | None = None
    post: dict[str, Expect] | None = None
    post_data: dict[str, str] = field(default_factory=dict)
    params: ParamFn | None = None
    note: str = ""

    def fits(self, route: str, name: str | None, module: str) -> bool:
        if self.name is not None and self.name != name:
            return False
        if self.route is not None and not re.fullmatch(self.route, route):
            return False
        return self.module is None or module.startswith(self.module)


def _person(org: Org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}


# Wagtail's own admin namespaces. A Wagtail viewset for one of OUR models gets its own
# namespace, is not matched here and so must be declared explicitly.
WAGTAIL_NAMES = (
    r"wagtailadmin_\w+(:[\w:-]+)?|wagtail_bulk_action|"
    r"(wagtailforms|wagtailredirects|wagtailsettings|wagtailembeds|wagtailsnippets|wagtaildocs"
    r"|wagtaildocs_chooser|wagtailimages|wagtailimages_chooser|wagtailsites|wagtailusers_users"
    r"|wagtailusers_groups):[\w-]+"
)

# Websocket outcomes.
ACCEPT, REFUSE = "accept", "refuse"
