"""The websocket handshake's Origin check: the full origin, as Django's CSRF check has it.

channels' ``AllowedHostsOriginValidator`` compares only the Origin's host with
``ALLOWED_HOSTS``: ``http://localhost:1337`` or ``https://127.0.0.1:8101`` passed for a site
served at ``http://127.0.0.1:8000``, so any page on another port or scheme of an allowed host
could open a socket with the visitor's cookie. ``SameOriginValidator`` accepts a handshake
only when its Origin header is, scheme, host and port,

1. the socket's own origin: ``http`` (``ws``) or ``https`` (``wss``, or the
   ``SECURE_PROXY_SSL_HEADER`` a proxy sets) with the ``Host`` header, which must be one of
   ``ALLOWED_HOSTS`` (Django's ``validate_host``, with its ``DEBUG`` defaults); or
2. one of ``CSRF_TRUSTED_ORIGINS``, exactly or by its ``*.`` subdomain pattern,

the rule ``django.middleware.csrf.CsrfViewMiddleware._origin_verified`` applies to a POST.
Anything else, a missing or ``null`` Origin included, is refused before the handshake
completes (HTTP 403), as channels' validator refuses. Used by ``config/asgi.py`` and
``bench/live_ws_server.py``; tests in ``tests/lib/test_ws_origin.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


def _is_secure(scope) -> bool:
    """``HttpRequest.is_secure`` for a websocket scope."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        value = _header(scope, name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _own_origin(scope) -> str | None:
    """The socket's own origin (scheme and ``Host``), or None if the host is not allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    return f"{'https' if _is_secure(scope) else 'http'}://{host}"


def origin_allowed(scope) -> bool:
    """Whether the handshake's Origin is the site's own or a trusted one (module rules)."""
    origin = _header(scope, b"origin")
    if not origin or origin == "null":
        return False
    if origin == _own_origin(scope):
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    for pattern in trusted:
        scheme, _, netloc = pattern.partition("://")
        if netloc.startswith("*") and scheme == parsed.scheme:
            if is_same_domain(parsed.netloc, netloc[1:]):
                return True
    return False


class SameOriginValidator:
    """ASGI middleware for websocket routes: refuses a handshake whose Origin is not allowed
    (``origin_allowed``) with HTTP 403; everything else goes on to ``application``."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator is for websocket connections only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
