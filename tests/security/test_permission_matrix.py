"""Permission matrix: every URL pattern of the project × every role, against ONE policy table.

How it works
------------
* ``iter_routes()`` walks ``get_resolver().url_patterns`` recursively (Django admin, Wagtail
  admin with our hooks, ``/accounts/``, ``/i18n/``, Wagtail page serving, …) and
  ``config.routing.websocket_urlpatterns``.
* ``POLICY`` is the single declared table: the first rule whose matcher fits a route says
  what each role must get. A route no rule covers fails the test. Each app declares its own
  URLs in ``tests/security/policies/<app>.py``; shared routes (accounts, Wagtail, Django
  admin) are declared here. The vocabulary (roles, outcomes, ``Rule``) is in ``matrix.py``.
* Every cell is requested with Django's test client (``raise_request_exception=False``, so a
  crash shows up as a 500 cell instead of aborting the run). Mismatches are collected and
  reported together at the end; no cell may answer 5xx.
* ``OBJECT_PROBES`` substitute in-scope, out-of-scope and missing ids into our object URLs:
  out-of-scope staff get 404 (existence is never revealed).
* Websocket routes are connected through the real ``config.asgi.application`` (origin check
  and session cookie) for every role, from foreign origins (another host, scheme or port),
  and as every staff role signed in with the password only (refused).
* ``test_permission_matrix_password_only_staff``: every HTTP route × every staff role with
  the password only goes to the second step (JSON: 403), but the routes
  ``people.twofactor.EXEMPT_URL_NAMES`` names.

Outcome classes (``classify``): ``ok`` 2xx · ``login`` redirect to a login page ·
``forbidden`` 403, or Wagtail's redirect to the admin home with an error message ·
``notfound`` 404 · ``method`` 405 · ``redirect`` any other redirect · ``bad`` 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from people.twofactor import EXEMPT_URL_NAMES
from tests.factories import Org
from tests.security.matrix import (
    ACCEPT,
    ANY,
    LOGIN,
    METHOD,
    NOTFOUND,
    OK,
    REDIRECT,
    ROLES,
    SCOPE,
    SIGNED_IN,
    STAFF,
    WAGTAIL_NAMES,
    Expect,
    Rule,
    classify,
    matches,
    object_pk,
    roles,
)
from tests.security.policies import app_object_probes, app_rules, app_ws_params, app_ws_policy

try:  # staff must pass two-factor authentication before the admins (people/twofactor.py)
    from tests.factories import login_staff
except ImportError:  # pragma: no cover - before two-factor authentication existed
    login_staff = None

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

POLICY: list[Rule] = [
    # Each app's own URLs: tests/security/policies/<app>.py
    *app_rules(),
    # ---- Wagtail routes we shadow with a 404 in config/urls.py (they would answer 500)
    Rule(name="blocked_failwhale", get=roles(everyone=NOTFOUND)),
    Rule(name="blocked_chooser_chosen", get=roles(everyone=NOTFOUND)),
    Rule(name="wagtailadmin_error_test", get=roles(everyone=NOTFOUND), note="shadowed: 404"),
    *(
        Rule(
            name=name,
            params=lambda org: {"pk": "1"},
            get=roles(non_staff=LOGIN, staff=ANY),
            note="numeric ids reach Wagtail; others hit blocked_chooser_chosen",
        )
        for name in ("wagtailimages_chooser:chosen", "wagtaildocs_chooser:chosen")
    ),
    # ---- accounts, language, privacy, health, pages
    Rule(
        name="login",
        get=roles(anonymous=OK, signed_in=REDIRECT),
        post=roles(anonymous=OK, signed_in=REDIRECT),
        note="empty POST re-shows the form; signed-in users are sent on",
    ),
    Rule(name="logout", get=roles(everyone=METHOD), post=roles(everyone=REDIRECT)),
    Rule(
        name="password_change",
        get=roles(anonymous=LOGIN, signed_in=OK),
        post=roles(anonymous=LOGIN, signed_in=OK),
        note="empty POST: form errors, nothing changes",
    ),
    Rule(name="password_change_done", get=roles(anonymous=LOGIN, signed_in=OK)),
    # Two-factor pages (staff only; staff here have passed the second step already).
    Rule(
        name="twofactor_setup",
        get=roles(non_staff=LOGIN, learners=NOTFOUND, outsider=NOTFOUND, staff=REDIRECT),
    ),
    Rule(
        name="twofactor_verify",
        get=roles(non_staff=LOGIN, learners=NOTFOUND, outsider=NOTFOUND, staff=OK),
    ),
    Rule(
        name="twofactor_recovery",
        get=roles(non_staff=LOGIN, learners=NOTFOUND, outsider=NOTFOUND, staff=OK),
    ),
    Rule(
        name="set_language",
        get=roles(everyone=REDIRECT),
        post=roles(everyone=REDIRECT),
        post_data={"language": "en", "next": "/"},
    ),
    Rule(
        name="privacy_notice",
        get=roles(everyone=OK),
        post=roles(anonymous=LOGIN, learners=REDIRECT, staff=NOTFOUND, outsider=NOTFOUND),
        note="only a supervised person can acknowledge (stale version: redirect to re-read)",
    ),
    Rule(name="health", get=roles(everyone=OK)),
    Rule(name="wagtail_serve", get=roles(everyone=OK), note="home page / learner dashboard"),
    Rule(name="wagtailcore_login", get=roles(everyone=OK), note="page-privacy login form"),
    Rule(
        name="wagtailcore_authenticate_with_password",
        get=roles(everyone=NOTFOUND),
        note="no such restriction",
    ),
    Rule(name="wagtaildocs_serve", get=roles(everyone=NOTFOUND), note="no such document"),
    Rule(
        name="wagtaildocs_authenticate_with_password",
        get=roles(everyone=NOTFOUND),
    ),
    Rule(route=r"\^(static|media)/.*", get=roles(everyone=NOTFOUND), note="DEBUG only"),
    # ---- Django admin: superusers only (nobody here is staff or superuser)
    Rule(name="admin:login", get=roles(everyone=OK)),
    Rule(name="admin:logout", get=roles(everyone=REDIRECT), note="non-staff: to admin index"),
    Rule(
        name="admin:javascript-catalog",
        route=r"django-admin/people/office/jsi18n/",
        get=roles(everyone=OK),
        note="treebeard's public JS catalogue",
    ),
    Rule(route=r"django-admin/.*", get=roles(everyone=LOGIN)),
    # ---- Wagtail admin: public pages first, then everything else is staff-only
    Rule(name="wagtailadmin_login", get=roles(non_staff=OK, staff=REDIRECT)),
    Rule(route=r"admin/password_reset/.*", module="wagtail.", get=roles(everyone=OK)),
    Rule(name="wagtailadmin_javascript_catalog", get=roles(everyone=OK)),
    Rule(name="wagtailadmin_sprite", get=roles(everyone=OK)),
    Rule(route=r"admin/test404/", get=roles(non_staff=LOGIN, staff=OK)),
    Rule(
        route=r"admin/\.\*/\$",
        module="wagtail.",
        get=roles(non_staff=LOGIN, staff=NOTFOUND),
        note="admin catch-all",
    ),
    Rule(
        route=r"admin/.*",
        name=None,
        module="wagtail.",
        get=roles(non_staff=LOGIN, staff=ANY),
        note="Wagtail internals: staff anything but 5xx, never reachable without admin access",
    ),
]
# The generic Wagtail rule also requires a Wagtail URL name (see ``rule_for``).
_GENERIC_WAGTAIL = POLICY[-1]


@pytest.fixture(autouse=True)
def live_webhook_secrets(settings):
    """Configure the Jitsi webhook secrets so the live hooks answer 4xx, not 503."""
    settings.JAAS_WEBHOOK_SECRET = "whsec_permission_matrix"
    settings.PROSODY_WEBHOOK_TOKEN = "permission-matrix-token"


def rule_for(route: str, name: str | None, module: str) -> Rule | None:
    for rule in POLICY:
        if rule.fits(route, name, module):
            if rule is _GENERIC_WAGTAIL and not (name and re.fullmatch(WAGTAIL_NAMES, name)):
                continue
            return rule
    return None


# Object probes and websocket routes: tests/security/policies/<app>.py.
OBJECT_PROBES = app_object_probes()
WS_POLICY: dict[str, dict[str, str]] = app_ws_policy()
WS_PARAMS = app_ws_params()

# --- Walking the URL configuration ----------------------------------------------------------

# Sample text for regex parts of routes (Django and Wagtail use a few ``re_path``s).
REGEX_SAMPLES = {
    r"^pages/": "pages/",
    r"^documents/": "documents/",
    r"^images/": "images/",
    r"^(?P<pk>\d+)/revisions/compare/(?P<revision_id_a>live|earliest|\d+)\.\.\."
    r"(?P<revision_id_b>live|latest|\d+)/$": "1/revisions/compare/earliest...latest/",
    r"(?P<url>.*)$": "nonexistent/",
    r"^.*/$": "nonexistent/",
    r"^(\d+)/(.*)$": "1/missing.pdf",
    r"^static/(?P<path>.*)$": "static/missing.css",
    r"^media/(?P<path>.*)$": "media/missing.png",
    r"^((?:[\w\-]+/)*)$": "",
    r"^admin/(?:images|documents)/chooser/chosen/(?!\d+/$)[^/]*/$": (
        "admin/images/chooser/chosen/x/"
    ),
}
CONVERTER_SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "1", None: "x"}
_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


@dataclass
class Route:
    route: str
    name: str | None
    module: str
    parts: tuple

    def url(self, params: dict[str, str] | None = None) -> str:
        params = params or {}
        url = "/"
        for part in self.parts:
            text = str(part)
            if isinstance(part, RoutePattern):
                url += _PARAM.sub(
                    lambda m: params.get(m["name"], CONVERTER_SAMPLES[m["conv"]]), text
                )
            elif text.startswith("^(?P<app_label>"):  # Django admin app index
                url += text[len("^(?P<app_label>") :].split("|")[0] + "/"
            else:
                url += REGEX_SAMPLES[text]
        return url


def _join(parts) -> str:
    route = ""
    for part in parts:
        text = str(part)
        route = route + text.removeprefix("^") if route else text
    return route


def iter_routes(patterns=None, parts=(), namespaces=()) -> Iterator[Route]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from iter_routes(pattern.url_patterns, (*parts, pattern.pattern), ns)
        else:
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            module = getattr(pattern.callback, "__module__", "") or ""
            all_parts = (*parts, pattern.pattern)
            yield Route(_join(all_parts), name, module, all_parts)


def iter_ws_routes() -> Iterator[Route]:
    from config.routing import websocket_urlpatterns

    yield from iter_routes(websocket_urlpatterns)


# --- Tests ----------------------------------------------------------------------------------


def test_policy_table_is_well_formed():
    for rule in POLICY:
        for table in (rule.get, rule.post):
            if table is not None:
                assert set(table) == set(ROLES), f"{rule.name or rule.route}: roles missing"
    for route, table in WS_POLICY.items():
        assert set(table) == set(ROLES), f"{route}: roles missing"


def test_every_route_is_declared():
    """Fast, DB-free: a new URL pattern must get a rule in POLICY (or WS_POLICY)."""
    undeclared = [
        f"{r.route} (name={r.name}, view module={r.module})"
        for r in iter_routes()
        if rule_for(r.route, r.name, r.module) is None
    ]
    undeclared += [f"websocket {r.route}" for r in iter_ws_routes() if r.route not in WS_POLICY]
    assert not undeclared, "Undeclared URL patterns, add them to POLICY:\n" + "\n".join(undeclared)


class Matrix:
    def __init__(self, org: Org):
        self.org = org
        self.users = {role: getattr(org, role) for role in SIGNED_IN}
        self.clients = {role: self._client(role) for role in ROLES}
        self.cells = 0
        self.mismatches: list[str] = []

    def _client(self, role: str) -> Client:
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            self._sign_in(client, role)
        return client

    def _sign_in(self, client: Client, role: str) -> None:
        """Sign in as a fully authenticated user (staff: past the second step)."""
        if login_staff is not None:
            login_staff(client, self.users[role])
        else:
            client.force_login(self.users[role])

    def _ensure_signed_in(self, role: str) -> None:
        """Logout cells end the session; sign the role in again for the next cell."""
        if role == "anonymous":
            return
        cookie = self.clients[role].cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is None or not cookie.value:
            self._sign_in(self.clients[role], role)

    def check(self, what: str, url: str, method: str, role: str, expected: Expect, data=None):
        self._ensure_signed_in(role)
        client = self.clients[role]
        response = client.post(url, data or {}) if method == "post" else client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # errors while streaming count too
        outcome = classify(response)
        self.cells += 1
        if matches(outcome, expected):
            return
        line = (
            f"{method.upper()} {url} [{what}] as {role}: expected {_show(expected)}, "
            f"got {outcome} ({response.status_code} {response.get('Location', '')})".rstrip()
        )
        self.mismatches.append(line)


def _show(expected: Expect) -> str:
    return "|".join(sorted(expected)) if isinstance(expected, frozenset) else expected


WS_TIMEOUT = 10  # seconds


async def _ws_cell(path: str, cookie: str | None, origin: bytes) -> tuple[bool, object]:
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    from config.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    # channels' 1 s default timed out a cell once on PostgreSQL + Redis with two suites running
    # on 2 cores; the answer (accepted or refused) is the same, only later
    connected, detail = await communicator.connect(timeout=WS_TIMEOUT)
    if connected:
        first = await communicator.receive_json_from(timeout=WS_TIMEOUT)
        detail = first
        await communicator.disconnect()
    return connected, detail


# The matrix runs as several tests so that pytest-xdist spreads it over the workers: the HTTP
# routes in ROUTE_CHUNKS consecutive slices, then the object probes, then the websocket routes.
# Each test starts from a fresh ``org``; within a route every role is still asked in ROLES
# order, which some rules rely on ("officer (first in order) removes it; then it is gone").
# tests/conftest.py adds the tests' counts up into one summary line at the end of the run.
ROUTE_CHUNKS = 8


def _route_chunk(index: int) -> list[Route]:
    routes = list(iter_routes())
    size = -(-len(routes) // ROUTE_CHUNKS)
    return routes[index * size : (index + 1) * size]


def _summarise(matrix: Matrix, part: str, capsys, record_property) -> None:
    record_property("permission_matrix_cells", matrix.cells)
    record_property("permission_matrix_mismatches", len(matrix.mismatches))
    with capsys.disabled():
        print(  # noqa: T201 - the summary line the issue asks for
            f"\npermission matrix ({part}): {matrix.cells} cells checked, "
            f"{len(matrix.mismatches)} mismatches"
        )
    assert not matrix.mismatches, "Permission matrix mismatches:\n" + "\n".join(matrix.mismatches)


@pytest.mark.parametrize("chunk", range(ROUTE_CHUNKS), ids=lambda n: f"{n + 1}of{ROUTE_CHUNKS}")
def test_permission_matrix_routes(org, chunk, capsys, record_property):
    matrix = Matrix(org)

    # 1. Every HTTP route × every role (GET; POST too where the rule declares it).
    for route in _route_chunk(chunk):
        rule = rule_for(route.route, route.name, route.module)
        if rule is None:
            matrix.mismatches.append(f"UNDECLARED {route.route} (name={route.name})")
            continue
        url = route.url(rule.params(org) if rule.params else None)
        match = resolve(urlsplit(url).path)
        if match.route != route.route:
            matrix.mismatches.append(
                f"SAMPLE {url} for {route.route} resolves to {match.route}; fix the samples"
            )
            continue
        for role in ROLES:
            matrix.check(route.route, url, "get", role, rule.get[role])
            if rule.post is not None:
                matrix.check(route.route, url, "post", role, rule.post[role], rule.post_data)

    _summarise(matrix, f"routes {chunk + 1}/{ROUTE_CHUNKS}", capsys, record_property)


def test_route_chunks_cover_every_route_once():
    chunks = [route for n in range(ROUTE_CHUNKS) for route in _route_chunk(n)]
    assert [r.route for r in chunks] == [r.route for r in iter_routes()]


def test_permission_matrix_object_probes(org, capsys, record_property):
    matrix = Matrix(org)

    # 2. Object probes: in-scope, out-of-scope and missing ids in our object URLs.
    by_name = {r.name: r for r in iter_routes() if r.name}
    for name, method, expect_for in OBJECT_PROBES:
        route = by_name[name]
        for obj in SCOPE:
            url = route.url({"pk": str(object_pk(org, obj))})
            expected = expect_for(obj)
            for role in ROLES:
                matrix.check(f"object probe: {obj}", url, method, role, expected[role])

    _summarise(matrix, "object probes", capsys, record_property)


def test_permission_matrix_websockets(org, capsys, record_property):
    matrix = Matrix(org)
    password_only_clients: dict[str, Client] = {}

    # 3. Websocket routes through the real ASGI stack (origin check + session cookie).
    for route in iter_ws_routes():
        sample = WS_PARAMS.get(route.route)
        path = route.url(sample(org) if sample else None)
        policy = WS_POLICY.get(route.route)
        if policy is None:
            matrix.mismatches.append(f"UNDECLARED websocket {route.route}")
            continue
        for role in ROLES:
            matrix._ensure_signed_in(role)
            cookie = matrix.clients[role].cookies.get(settings.SESSION_COOKIE_NAME)
            value = cookie.value if cookie is not None else None
            connected, detail = async_to_sync(_ws_cell)(path, value, b"http://testserver")
            matrix.cells += 1
            expected = policy[role]
            if connected != (expected == ACCEPT) or (
                connected and isinstance(detail, dict) and detail.get("type") == "error"
            ):
                matrix.mismatches.append(
                    f"WS {path} as {role}: expected {expected}, got connected={connected} {detail}"
                )
        # A signed-in user from a foreign origin is refused (lib.ws_origin): another host, and
        # the site's own host with another scheme or port.
        cookie = matrix.clients["learner"].cookies[settings.SESSION_COOKIE_NAME].value
        for origin in FOREIGN_ORIGINS:
            connected, detail = async_to_sync(_ws_cell)(path, cookie, origin)
            matrix.cells += 1
            if connected:
                matrix.mismatches.append(f"WS {path} from origin {origin.decode()} was accepted")
        # Staff who typed only the password are refused every socket (people.consumers).
        for role in STAFF:
            client = password_only_clients.setdefault(role, _password_only(matrix.users[role]))
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            connected, detail = async_to_sync(_ws_cell)(path, cookie, b"http://testserver")
            matrix.cells += 1
            if connected:
                matrix.mismatches.append(
                    f"WS {path} as {role} with the password only: accepted ({detail})"
                )

    _summarise(matrix, "websockets", capsys, record_property)


FOREIGN_ORIGINS = (
    b"http://evil.example",
    b"http://testserver:1337",
    b"https://testserver",
    b"https://testserver:8101",
)
# What a staff member who typed only the password may still reach (people.twofactor).
SECOND_STEP_EXEMPT = EXEMPT_URL_NAMES
# Where it is sent instead (the matrix's staff have a device: verify).
SECOND_STEP_PAGES = {"/accounts/2fa/setup/", "/accounts/2fa/verify/"}


def _password_only(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_permission_matrix_password_only_staff(org, capsys, record_property):
    """Every HTTP route (the admins and the front end) × every staff role signed in with the
    password only: sent to the second step (a JSON request: 403 JSON), except the sign-in,
    sign-out and second-step pages, health, language and webhooks."""
    matrix = Matrix(org)
    clients = {role: _password_only(matrix.users[role]) for role in STAFF}
    for route in iter_routes():
        if route.name in SECOND_STEP_EXEMPT:
            continue
        rule = rule_for(route.route, route.name, route.module)
        url = route.url(rule.params(org) if rule is not None and rule.params else None)
        if url.startswith(settings.STATIC_URL):  # static files are exempt
            continue
        for role, client in clients.items():
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                matrix.cells += 1
                location = urlsplit(response.get("Location", "")).path
                if response.status_code != 302 or location not in SECOND_STEP_PAGES:
                    matrix.mismatches.append(
                        f"{method.upper()} {url} as {role} with the password only: "
                        f"{response.status_code} {location}"
                    )
            response = client.get(url, HTTP_ACCEPT="application/json")
            matrix.cells += 1
            if response.status_code != 403 or response.get("Content-Type") != "application/json":
                matrix.mismatches.append(
                    f"GET {url} (JSON) as {role} with the password only: {response.status_code}"
                )
    _summarise(matrix, "password-only staff", capsys, record_property)
