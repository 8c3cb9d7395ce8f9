"""ASGI application for ``bench_live_ws`` and ``bench_rollcall``: the project's own
(``config.asgi``) plus two websocket routes with the naive designs they are measured against.
Served by daphne, never by tests.

The naive fan-out is the straightforward design the real one avoids: the same check rows,
then one push per asked person through that person's own group (``user.<id>``, the way
``lib.broadcast.send_to_user`` pushes notifications), i.e. 1,000 ``group_send`` calls
instead of one to the lecture's group.

The naive group roll-call (``ws/bench-naive-rollcall/``, an officer's socket sending
``{"type": "start", "office": <id>}``) rings the same persons one after another, a call of
one person each in its own transaction (``rollcall.services.do_start_call`` per person),
as a group call built from the single-person call would.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from asgiref.sync import async_to_sync  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
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
from people.consumers import AuthenticatedConsumer  # noqa: E402
from people.models import Office, Person  # noqa: E402
from rollcall import services as rollcall_services  # noqa: E402
from rollcall.models import CallKind  # noqa: E402


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


def naive_group_call(officer, office_id: int) -> int:
    """Ring the office's persons one call after another; the number of calls started."""
    group = rollcall_services.Group(office=Office.objects.get(pk=office_id))
    persons = rollcall_services.group_persons(officer, group).select_related("user")
    for person in persons:
        rollcall_services.do_start_call(
            officer, [person], kind=CallKind.GROUP, audience=group.describe()
        )
    return len(persons)


class NaiveRollCallConsumer(AuthenticatedConsumer):
    async def on_connect(self) -> None:
        await self.send_json({"type": "hello"})

    async def handle(self, content: dict) -> None:
        if content["type"] != "start":
            await super().handle(content)
            return
        calls = await database_sync_to_async(naive_group_call)(
            self.scope["user"], int(content["office"])
        )
        await self.send_json({"type": "started", "calls": calls})


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            SessionAuthMiddleware(
                URLRouter(
                    [
                        *websocket_urlpatterns,
                        path("ws/bench-naive/<int:pk>/", NaiveLectureConsumer.as_asgi()),
                        path("ws/bench-naive-rollcall/", NaiveRollCallConsumer.as_asgi()),
                    ]
                )
            )
        ),
    }
)
