from __future__ import annotations

from django.urls import path

from live import centre_views, views
from live.models import EventType

urlpatterns = [
    path("hooks/jaas/", views.jaas_hook, name="live_hook_jaas"),
    path("hooks/prosody/", views.prosody_hook, name="live_hook_prosody"),
    # The event_sync plugin's own URLs, exactly as it builds them from its api_prefix (set to
    # https://<site>/live/hooks/prosody): mod_event_sync_component.lua, lines 74-77. No
    # trailing slash; each takes only its own event.
    path(
        "hooks/prosody/events/room/created",
        views.prosody_event_hook,
        {"event_name": EventType.MUC_ROOM_CREATED.value},
        name="live_hook_prosody_room_created",
    ),
    path(
        "hooks/prosody/events/room/destroyed",
        views.prosody_event_hook,
        {"event_name": EventType.MUC_ROOM_DESTROYED.value},
        name="live_hook_prosody_room_destroyed",
    ),
    path(
        "hooks/prosody/events/occupant/joined",
        views.prosody_event_hook,
        {"event_name": EventType.OCCUPANT_JOINED.value},
        name="live_hook_prosody_occupant_joined",
    ),
    path(
        "hooks/prosody/events/occupant/left",
        views.prosody_event_hook,
        {"event_name": EventType.OCCUPANT_LEFT.value},
        name="live_hook_prosody_occupant_left",
    ),
    path(
        "hooks/prosody/events/<path:rest>",
        views.prosody_unknown_hook,
        name="live_hook_prosody_unknown",
    ),
    path("lectures/<int:pk>/", views.lecture_page, name="live_lecture"),
    path("makeups/<int:pk>/", views.makeup_page, name="live_makeup"),
    path("makeups/heartbeat/", views.makeup_heartbeat, name="live_makeup_heartbeat"),
    path("check-in/<int:pk>/<str:token>/", centre_views.scan, name="live_centre_scan"),
]
