"""ASGI entry point: HTTP through Django, websockets through each app's ``routing.py``.

Every websocket route sits behind the full-origin check (``lib.ws_origin``: scheme, host
and port, as Django's CSRF check) and the session-auth middleware
(``lib.asgi_auth``: channels' auth stack in one call); consumers
still check the user themselves (see ``people.consumers``).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from lib.asgi_auth import SessionAuthMiddleware  # noqa: E402
from lib.ws_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

from lib.startup import settle  # noqa: E402

settle()  # the startup objects out of the collector's full passes (lib/startup.py)
