"""Channels' ``AuthMiddlewareStack`` for websockets, in one middleware.

``CookieMiddleware(SessionMiddleware(AuthMiddleware(app)))`` keeps, for as long as each
socket is open, four suspended middleware calls, each with its own copy of the connection's
scope, a session wrapper and a lazy user: several KiB a socket, a sizeable share of a
lecture's thousand sockets on one worker. This does the same in one call and one copy: the
``cookies`` from the ``Cookie`` header, ``session`` a store of the configured engine for the
session cookie (loaded on first use), and ``user`` resolved by channels' own ``get_user``
(backend allowed, user found, session auth hash verified; otherwise ``AnonymousUser`` and the
session flushed, exactly as channels does).
"""

from __future__ import annotations

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


class SessionAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        cookies = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        session = self.session_store(session_key=cookies.get(settings.SESSION_COOKIE_NAME))
        scope = dict(scope, cookies=cookies, session=session)
        scope["user"] = await get_user(scope)
        return await self.inner(scope, receive, send)
