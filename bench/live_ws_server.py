"""ASGI application for ``bench_live_ws``: the project's own (``config.asgi``) plus one extra
websocket route with the naive presence-check fan-out. Served by daphne, never by tests.

The naive fan-out is the straightforward design the real one avoids: the same check rows,
then one push per asked person through that person's own group (``user.<id>``, the way
``lib.broadcast.send_to_user`` pushes notifications), i.e. 1,000 ``group_send`` calls
instead of one to the lecture's group.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from asgiref.sync import async_to_sync  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from lib.asgi_auth import SessionAuthMiddleware  # noqa: E402
from lib.broadcast import user_group  # noqa: E402
from lib.ws_origin import SameOriginValidator  # noqa: E402
from live import roster  # noqa: E402
from live.consumers import LectureConsumer  # noqa: E402
from live.models import PresenceCheck, PresenceCheckResponse  # noqa: E402
from people.models import Person  # noqa: E402


class NaiveLectureConsumer(LectureConsumer):
    def send_check(self) -> dict:
        """Runs in the sync thread (``LectureConsumer.handle``): one push per person."""
        lecture = self.access.lecture
        now = timezone.now()
        asked = sorted(pk for pk, here in roster.server_presence(lecture, now).items() if here)
        with transaction.atomic():
            check = PresenceCheck.objects.create(
                lecture=lecture,
                sent_by=self.scope["user"],
                sent_at=now,
                expires_at=now + roster.CHECK_WINDOW,
            )
            PresenceCheckResponse.objects.bulk_create(
                [PresenceCheckResponse(presence_check=check, person_id=pk) for pk in asked]
            )
        users = dict(Person.objects.filter(pk__in=asked).values_list("pk", "user_id"))
        payload = roster.check_message(check, [])
        payload = {
            "type": "check",
            "check": check.pk,
            "expires_at": payload["expires_at"],
            "seconds": payload["seconds"],
        }
        send = async_to_sync(self.channel_layer.group_send)
        for pk in asked:
            send(user_group(users[pk]), {"type": "user.message", "payload": payload})
        return {"type": "check.queued", "check": check.pk}


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            SessionAuthMiddleware(
                URLRouter(
                    [
                        *websocket_urlpatterns,
                        path("ws/bench-naive/<int:pk>/", NaiveLectureConsumer.as_asgi()),
                    ]
                )
            )
        ),
    }
)
