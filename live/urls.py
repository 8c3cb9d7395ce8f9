from __future__ import annotations

from django.urls import path

from live import centre_views, views

urlpatterns = [
    path("hooks/jaas/", views.jaas_hook, name="live_hook_jaas"),
    path("hooks/prosody/", views.prosody_hook, name="live_hook_prosody"),
    path("lectures/<int:pk>/", views.lecture_page, name="live_lecture"),
    path("makeups/<int:pk>/", views.makeup_page, name="live_makeup"),
    path("makeups/heartbeat/", views.makeup_heartbeat, name="live_makeup_heartbeat"),
    path("check-in/<int:pk>/<str:token>/", centre_views.scan, name="live_centre_scan"),
]
