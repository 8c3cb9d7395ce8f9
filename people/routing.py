from __future__ import annotations

from django.urls import path

from people.consumers import UserConsumer

websocket_urlpatterns = [path("ws/me/", UserConsumer.as_asgi())]
