from __future__ import annotations

from django.urls import path

from live import centre_views, views
from live.models import EventType

# The event_sync plugin's own URLs, exactly as it builds them from its api_prefix (set to
# https://<site>/live/hooks/prosody): mod_event_sync_component.lua, lines 74-77. No trailing
# slash; each takes only its own event. URL tail → event.
PROSODY_PLUGIN_EVENTS = {
    "room/created": EventType.MUC_ROOM_CREATED,
    "room/destroyed": EventType.MUC_ROOM_DESTROYED,
    "occupant/joined": EventType.OCCUPANT_JOINED,
    "occupant/left": EventType.OCCUPANT_LEFT,
}
prosody_plugin_urls = [
    path(
        f"hooks/prosody/events/{tail}",
        views.prosody_event_hook,
        {"event_name": event.value},
        name=f"live_hook_prosody_{tail.replace('/', '_')}",
    )
    for tail, event in PROSODY_PLUGIN_EVENTS.items()
]

urlpatterns = [
    path("hooks/jaas/", views.jaas_hook, name="live_hook_jaas"),
    path("hooks/prosody/", views.prosody_hook, name="live_hook_prosody"),
    *prosody_plugin_urls,
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
