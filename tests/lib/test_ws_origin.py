"""The websocket Origin check (lib/ws_origin.py): scheme, host and port, as Django's CSRF
check, against the socket's own origin and ``CSRF_TRUSTED_ORIGINS``."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from lib.ws_origin import SameOriginValidator, origin_allowed


def scope(origin: str | None, host: str = "127.0.0.1:8000", scheme: str = "ws", **headers):
    pairs = [(b"host", host.encode())]
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    pairs += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.fixture(autouse=True)
def site(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://portal.example.org", "https://*.example.net"]


def test_the_sockets_own_origin_is_accepted():
    assert origin_allowed(scope("http://127.0.0.1:8000"))
    assert origin_allowed(scope("https://example.org", host="example.org", scheme="wss"))


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:1337",  # an allowed host on another port
        "https://127.0.0.1:8101",
        "https://127.0.0.1:8000",  # another scheme
        "http://127.0.0.1",  # the default port is another port
        "http://evil.example",
        "null",
        "",
    ],
)
def test_another_scheme_host_or_port_is_refused(origin):
    assert not origin_allowed(scope(origin))


def test_a_missing_origin_or_a_host_not_allowed_is_refused():
    assert not origin_allowed(scope(None))
    assert not origin_allowed(scope("http://evil.example", host="evil.example"))


def test_trusted_origins_exactly_or_by_subdomain_pattern():
    assert origin_allowed(scope("https://portal.example.org"))
    assert not origin_allowed(scope("http://portal.example.org"))
    assert not origin_allowed(scope("https://portal.example.org:8443"))
    assert origin_allowed(scope("https://a.example.net"))
    assert origin_allowed(scope("https://example.net"))
    assert not origin_allowed(scope("http://a.example.net"))
    assert not origin_allowed(scope("https://a.example.net.evil.example"))


def test_behind_a_proxy_the_forwarded_scheme_counts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = scope("https://example.org", host="example.org", x_forwarded_proto="https")
    assert origin_allowed(forwarded)
    assert not origin_allowed(
        scope("https://example.org", host="example.org", x_forwarded_proto="http")
    )


def test_the_middleware_refuses_the_handshake():
    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})

    async def connect(origin: str) -> bool:
        comm = WebsocketCommunicator(
            SameOriginValidator(app),
            "/ws/me/",
            headers=[(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")],
        )
        connected, _ = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected

    assert async_to_sync(connect)("http://127.0.0.1:8000")
    assert not async_to_sync(connect)("http://localhost:1337")
