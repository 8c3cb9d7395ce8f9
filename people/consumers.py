"""The signed-in user's socket, ``ws/me/``, and the base every consumer builds on.

Consumers are asynchronous: a message that needs no database (a ping, a presence check fanned
out to a thousand sockets) is handled on the event loop, and database work goes through
``database_sync_to_async`` in as few calls as possible. The re-checks of the account and
session that guard every delivery are batched across the process's sockets
(``allowed_sockets``), so a fan-out costs a few database calls, not one per socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Iterable
from importlib import import_module

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from lib.broadcast import user_group
from people.models import User

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403

# (user id, session key); a key None stands for a test scope without a session
SocketOwner = tuple[int, str | None]


def allowed_sockets(owners: Iterable[SocketOwner]) -> set[SocketOwner]:
    """The socket owners still allowed to receive: the account is active and, unless the key
    is None, the session still exists, has not expired and belongs to that user. Two queries
    for any number of owners with the database session engines."""
    owners = set(owners)
    active = set(
        User.objects.filter(pk__in={user for user, _ in owners}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    keys = {key for user, key in owners if key is not None and user in active}
    signed_in = _session_users(keys)
    return {
        (user, key)
        for user, key in owners
        if user in active and (key is None or signed_in.get(key) == str(user))
    }


def _session_users(keys: set[str]) -> dict[str, str]:
    """``{session key: user id as stored}`` for the keys whose session is live."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, str] = {}
    if not issubclass(store, DatabaseSessionStore):
        for key in keys:
            user = store(key).get(SESSION_KEY)
            if user is not None:
                found[key] = str(user)
        return found
    # the same rows the engine loads one by one (unexpired), read in bulk
    model = store.get_model_class()
    now = timezone.now()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        rows = model.objects.filter(
            session_key__in=ordered[start : start + 500], expire_date__gt=now
        ).values_list("session_key", "session_data")
        for key, data in rows:
            user = store().decode(data).get(SESSION_KEY)
            if user is not None:
                found[key] = str(user)
    return found


class _Rechecks:
    """Coalesces the re-checks that this event loop's sockets ask for at about the same time
    (a fan-out reaching a thousand sockets) into one ``allowed_sockets`` call. Every answer
    comes from a query started after the question was asked."""

    def __init__(self) -> None:
        self.waiting: dict[SocketOwner, list[asyncio.Future[bool]]] = {}
        self.task: asyncio.Task | None = None

    async def ask(self, owner: SocketOwner) -> bool:
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(owner, []).append(future)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # let the rest of a fan-out ask first
        while self.waiting:
            batch, self.waiting = self.waiting, {}
            futures = [future for waiting in batch.values() for future in waiting]
            try:
                allowed = await database_sync_to_async(allowed_sockets)(list(batch))
            except asyncio.CancelledError:  # the loop is closing: nobody waits forever
                for future in futures:
                    future.cancel()
                raise
            except Exception as error:  # the asking sockets fail as a direct check would
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
                continue
            for owner, waiting in batch.items():
                for future in waiting:
                    if not future.done():
                        future.set_result(owner in allowed)


_rechecks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Rechecks] = (
    weakref.WeakKeyDictionary()
)


def _rechecks_here() -> _Rechecks:
    loop = asyncio.get_running_loop()
    found = _rechecks.get(loop)
    if found is None:
        found = _rechecks[loop] = _Rechecks()
    return found


class AuthenticatedConsumer(AsyncJsonWebsocketConsumer):
    """Base for every consumer: refuses anonymous users at connect and re-checks, before each
    message in either direction, that the account is still active and its session still
    exists. A user who signs out (``session.ended`` is sent to their group) or is disabled
    stops receiving at once and the socket is closed.

    The consumer keeps the user's id and session key for the re-checks, not the user.
    """

    group: str | None = None
    user_id: int | None = None
    session_key: str | None = None

    async def dispatch(self, message):
        # channels closes stale database connections before every handler, one trip to the
        # sync thread per message (per socket in a fan-out); our database work all goes
        # through database_sync_to_async, which does that itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        # channels' own, less its trip to the sync thread to close stale connections (see
        # dispatch); this consumer joins no ``groups`` of channels' kind.
        await self.disconnect(message["code"])
        raise StopConsumer

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.group = user_group(user.pk)
        await self.accept()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.on_connect()

    async def on_connect(self) -> None:
        """Hook for subclasses, called once the socket is accepted."""

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def still_allowed(self) -> bool:
        """Whether the account is still active and the session still signed in (batched with
        the other sockets asking at the same moment)."""
        return await _rechecks_here().ask((self.user_id, self.session_key))

    async def end(self) -> None:
        await self.close(code=CLOSE_SESSION_ENDED)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # channels raises ValueError (and drops the socket) on an empty text frame or a binary
        # frame; treat them like any other message that is not JSON.
        if text_data:
            await super().receive(text_data=text_data, **kwargs)
        else:
            await self.receive_json(None)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except (TypeError, ValueError):
            return None

    async def receive_json(self, content, **kwargs):
        if not await self.still_allowed():
            await self.end()
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "error": "unknown message type"})
            return
        await self.handle(content)

    async def handle(self, content: dict) -> None:
        await self.send_json({"type": "error", "error": "unknown message type"})

    async def user_message(self, event):
        if not await self.still_allowed():
            await self.end()
            return
        await self.send_json(event["payload"])

    async def session_ended(self, event):
        await self.end()


class UserConsumer(AuthenticatedConsumer):
    """A signed-in user's personal channel: notifications and alerts arrive here.

    Clients may send ``{"type": "ping"}`` and get ``{"type": "pong"}``; anything else,
    including text that is not JSON, gets an error message and changes nothing.
    """

    async def on_connect(self) -> None:
        await self.send_json({"type": "hello"})

    async def handle(self, content: dict) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await super().handle(content)
