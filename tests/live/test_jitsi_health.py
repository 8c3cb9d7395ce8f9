"""``live.jitsi.server_reachable``: a short GET, never raises, False only when the server
does not answer (network error, timeout, 5xx)."""

from __future__ import annotations

import pytest
import requests

from live import jitsi


class Answer:
    def __init__(self, status: int):
        self.status_code = status


@pytest.fixture
def asked(monkeypatch):
    calls: list[tuple[str, dict, object]] = []
    outcome: dict[str, object] = {"value": Answer(200)}

    def get(url, params=None, timeout=None, allow_redirects=True):
        calls.append((url, params, timeout))
        if isinstance(outcome["value"], Exception):
            raise outcome["value"]
        return outcome["value"]

    monkeypatch.setattr(jitsi.requests, "get", get)
    return calls, outcome


@pytest.mark.parametrize(
    "status, up", [(200, True), (302, True), (404, True), (500, False), (503, False)]
)
def test_the_web_front_is_asked_with_a_short_timeout(settings, asked, status, up):
    settings.JITSI_MUC_SIZE_URL = ""
    settings.JITSI_DOMAIN = "meet.example.org"
    calls, outcome = asked
    outcome["value"] = Answer(status)
    assert jitsi.server_reachable() is up
    assert calls == [("https://meet.example.org/", {}, jitsi.HEALTH_TIMEOUT)]


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.Timeout("slow")])
def test_a_server_that_does_not_answer_is_down_and_nothing_raises(settings, asked, error):
    settings.JITSI_MUC_SIZE_URL = ""
    calls, outcome = asked
    outcome["value"] = error
    assert jitsi.server_reachable() is False


def test_mod_muc_size_is_asked_when_configured(settings, asked):
    settings.JITSI_MUC_SIZE_URL = "http://prosody:5280"
    settings.JITSI_XMPP_DOMAIN = "meet.example.org"
    calls, outcome = asked
    outcome["value"] = Answer(404)  # the probe room does not exist: the server answered
    assert jitsi.server_reachable() is True
    assert calls == [
        (
            "http://prosody:5280/room",
            {"room": jitsi.HEALTH_ROOM, "domain": "meet.example.org"},
            jitsi.HEALTH_TIMEOUT,
        )
    ]


def test_the_script_comes_from_the_video_server(settings):
    settings.JAAS_APP_ID = ""
    settings.JITSI_DOMAIN = "meet.example.org"
    assert jitsi.script_url() == "https://meet.example.org/external_api.js"
