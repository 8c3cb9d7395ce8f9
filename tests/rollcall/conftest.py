from __future__ import annotations

import pytest

from tests.live.conftest import SECRET, TOKEN

JITSI_SECRET = "rollcall-tests-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def video_server(settings, monkeypatch):
    """A self-hosted Jitsi with tokens and webhooks configured, answering by default; a test
    sets ``video_server.up = False`` to take it down."""
    settings.JITSI_APP_ID = "platform"
    settings.JITSI_APP_SECRET = JITSI_SECRET
    settings.JAAS_WEBHOOK_SECRET = SECRET
    settings.PROSODY_WEBHOOK_TOKEN = TOKEN

    class Server:
        up = True
        asked = 0

    server = Server()

    def reachable() -> bool:
        server.asked += 1
        return server.up

    monkeypatch.setattr("live.jitsi.server_reachable", reachable)
    return server


@pytest.fixture
def pushes(monkeypatch):
    """Every message rollcall pushes to a user's sockets (``send_to_users``), as (user id,
    payload)."""
    sent: list[tuple[int, dict]] = []

    def capture(messages):
        sent.extend(messages)

    monkeypatch.setattr("rollcall.services.send_to_users", capture)
    return sent


@pytest.fixture
def board_pushes(monkeypatch):
    """Every row rollcall sends to a call's board group, as (group, row)."""
    sent: list[tuple[str, dict]] = []

    def capture(group, message):
        assert message["type"] == "rollcall.rows"
        sent.extend((group, row) for row in message["rows"])

    monkeypatch.setattr("rollcall.services.send_to_group", capture)
    return sent
