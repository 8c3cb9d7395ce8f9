"""The board socket of a call, gathered by ``config/routing.py``."""

from __future__ import annotations

from django.urls import path

from rollcall.consumers import BoardConsumer

websocket_urlpatterns = [path("ws/rollcall/<int:pk>/", BoardConsumer.as_asgi())]
