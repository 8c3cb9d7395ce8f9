from __future__ import annotations

import re

import pytest

from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in policy.split("; ")}


def test_learner_pages_have_strict_csp_with_a_fresh_nonce(client, org):
    client.force_login(org.learner)
    first, second = csp(client.get("/")), csp(client.get("/"))
    for policy in (first, second):
        assert "unsafe-inline" not in policy["script-src"]
        assert "unsafe-inline" not in policy["style-src"]
        assert re.search(r"'nonce-[\w-]{16,}'", policy["script-src"])
        assert policy["object-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
    assert first["script-src"] != second["script-src"]


def test_login_page_has_no_inline_script_or_style(client):
    response = client.get("/accounts/login/")
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "<script>" not in response.text
    assert " style=" not in response.text


def test_admin_keeps_a_policy_it_can_work_with(client, org):
    login_staff(client, org.officer)
    policy = csp(client.get("/admin/people/"))
    assert policy["object-src"] == "'none'"
    assert "'unsafe-inline'" in policy["script-src"]  # Wagtail's own inline scripts


def test_signed_in_pages_are_not_stored(client, org):
    login_staff(client, org.counselor)
    response = client.get("/admin/people/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_common_headers(client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_client_ip_behind_a_proxy(rf, settings):
    from lib.net import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.7")
    assert client_ip(request) == "10.0.0.1"
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert client_ip(request) == "203.0.113.7"
    bad = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="<script>")
    assert client_ip(bad) == "10.0.0.1"


def test_nul_in_the_query_string_is_a_clear_400(client, org):
    response = client.get("/admin/people/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert "Null characters" in response.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (12, 12),
        ("²", None),
        ("0", None),
        (-1, None),
        ("1" * 30, None),
        (10**30, None),
        (True, None),
        ("1.5", None),
        (None, None),
        ("٣", None),
    ],
)
def test_parse_id_accepts_only_storable_positive_ids(value, expected):
    from lib.parse import parse_id

    assert parse_id(value) == expected
