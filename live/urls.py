from __future__ import annotations

from django.urls import path

from live import views

urlpatterns = [
    path("hooks/jaas/", views.jaas_hook, name="live_hook_jaas"),
    path("hooks/prosody/", views.prosody_hook, name="live_hook_prosody"),
]
