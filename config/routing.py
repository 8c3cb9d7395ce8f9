"""All websocket routes, gathered from the apps' ``routing.py`` modules."""

from __future__ import annotations

from live.routing import websocket_urlpatterns as live_ws
from people.routing import websocket_urlpatterns as people_ws
from rollcall.routing import websocket_urlpatterns as rollcall_ws

websocket_urlpatterns = [*people_ws, *live_ws, *rollcall_ws]
