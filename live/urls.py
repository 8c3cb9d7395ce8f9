from __future__ import annotations

from django.urls import path

from live import views

urlpatterns = [
    path("hooks/jaas/", views.jaas_hook, name="live_hook_jaas"),
    path("hooks/prosody/", views.prosody_hook, name="live_hook_prosody"),
    path("lectures/<int:pk>/", views.lecture_page, name="live_lecture"),
    path("makeups/<int:pk>/", views.makeup_page, name="live_makeup"),
    path("makeups/heartbeat/", views.makeup_heartbeat, name="live_makeup_heartbeat"),
]
