from __future__ import annotations

from django.urls import path

from live.consumers import LectureConsumer

websocket_urlpatterns = [path("ws/live/<int:pk>/", LectureConsumer.as_asgi())]
