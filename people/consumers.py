"""The signed-in user's socket, ``ws/me/``, and the base every consumer builds on.

Consumers are asynchronous: a message that needs no database (a ping, a presence check fanned
out to a thousand sockets) is handled on the event loop, and database work goes through
``database_sync_to_async`` in as few calls as possible. The re-checks of the account and
session that guard every delivery are batched across the process's sockets
(``allowed_sockets``), so a fan-out costs a few database calls, not one per socket.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import weakref
from collections.abc import Iterable
from importlib import import_module

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY

from lib.broadcast import user_group
from people.middleware import LAST_ACTIVITY_KEY, TOUCH_INTERVAL, session_idle_too_long
from people.models import User
from people.roles import STAFF_ROLES
from people.twofactor import sessions_past_second_factor

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403

# (user id, session key); a key None stands for a test scope without a session
SocketOwner = tuple[int, str | None]


def allowed_sockets(owners: Iterable[SocketOwner], now: int | None = None) -> set[SocketOwner]:
    """The socket owners still allowed to receive, by the rules an HTTP request of the same
    session is held to: the account is active and, unless the key is None (a test scope
    without a session: the account alone), the session still exists, has not expired,
    belongs to that user, was signed in with the user's current password (its auth hash, as
    ``django.contrib.auth.get_user`` checks it), has not been idle past the user's limit
    (``people.middleware``) and, for a user who needs it, has passed the second step
    (``people.twofactor``). Two queries for any number of learners' sockets with the
    database session engines, one or two more when staff sockets are among them."""
    owners = set(owners)
    now = int(time.time()) if now is None else now
    staff_role = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=STAFF_ROLES
    )
    users = {
        pk: (password, bool(is_staff or is_superuser or has_role))
        for pk, password, is_staff, is_superuser, has_role in User.objects.filter(
            pk__in={user for user, _ in owners}, is_active=True
        )
        .annotate(has_role=Exists(staff_role))
        .values_list("pk", "password", "is_staff", "is_superuser", "has_role")
    }
    sessions = _live_sessions({key for user, key in owners if key is not None and user in users})
    signed_in: set[SocketOwner] = set()
    second_step: set[tuple[int, object]] = set()  # (user, stored device) for staff
    for user, key in owners:
        if user not in users:
            continue
        if key is None:
            signed_in.add((user, key))
            continue
        data = sessions.get(key)
        password, staff = users[user]
        if data is None or data.get(SESSION_KEY) != str(user):
            continue
        if not _auth_hash_matches(data.get(HASH_SESSION_KEY), password):
            continue
        if session_idle_too_long(data, now, staff=staff):
            continue
        signed_in.add((user, key))
        if staff:
            second_step.add((user, data.get(DEVICE_ID_SESSION_KEY)))
    passed = sessions_past_second_factor(second_step)

    def past_second_step(user: int, key: str | None) -> bool:
        if key is None or not users[user][1]:  # a test scope, or no second step needed
            return True
        return (user, sessions[key].get(DEVICE_ID_SESSION_KEY)) in passed

    return {owner for owner in signed_in if past_second_step(*owner)}


def _auth_hash_matches(stored: object, password: str) -> bool:
    """Whether a session's auth hash is that of a user with this password hash (with the
    current key or a ``SECRET_KEY_FALLBACKS`` one), as ``get_user`` checks it."""
    if not isinstance(stored, str):
        return False
    if constant_time_compare(stored, _current_auth_hash(settings.SECRET_KEY, password)):
        return True
    return any(
        constant_time_compare(stored, fallback)
        for fallback in User(password=password).get_session_auth_fallback_hash()
    )


@functools.lru_cache(maxsize=4096)
def _current_auth_hash(secret_key: str, password: str) -> str:
    """``get_session_auth_hash`` of a user with this password hash under ``secret_key`` (the
    key is part of the cache key): a fan-out's re-check computes each user's once."""
    return User(password=password).get_session_auth_hash()


def _live_sessions(keys: set[str]) -> dict[str, dict]:
    """``{session key: its decoded data}`` for the keys whose session is live."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict] = {}
    if not issubclass(store, DatabaseSessionStore):
        for key in keys:
            session = store(key)
            data = dict(session.items())
            if session.session_key is not None and data:
                found[key] = data
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
            found[key] = store().decode(data)
    return found


def touch_session(key: str, now: int) -> None:
    """Set a session's idle clock to ``now`` (epoch seconds) if it is a ``TOUCH_INTERVAL``
    behind, as ``IdleTimeoutMiddleware`` does for a request. The row is read under its lock
    and written in the same transaction, so nothing another request saved is overwritten; a
    session that has gone meanwhile is left gone."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        if issubclass(store, DatabaseSessionStore):
            model = store.get_model_class()
            if not model.objects.select_for_update().filter(session_key=key).exists():
                return
        session = store(key)
        last = session.get(LAST_ACTIVITY_KEY)
        if session.session_key is None or (isinstance(last, int) and now - last < TOUCH_INTERVAL):
            return
        session[LAST_ACTIVITY_KEY] = now
        try:
            session.save()
        except UpdateError:  # signed out meanwhile
            return


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
    """Base for every consumer: refuses at connect, and re-checks before each message in
    either direction, what an HTTP request of the same session must pass
    (``allowed_sockets``): an active account, a live session of that user signed in with its
    current password, not idle past its limit and, for staff, past the second step. A socket
    that fails is closed. A user who signs out (``session.ended`` is sent to their group) or
    is disabled stops receiving at once.

    A message from the page is the person's activity, like an HTTP request: it moves the
    session's idle clock on (``touch_session``, at most once a ``TOUCH_INTERVAL``).

    The consumer keeps the user's id and session key for the re-checks, not the user.
    """

    group: str | None = None
    user_id: int | None = None
    session_key: str | None = None
    touched_at: float = 0.0

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
        if await self.admit():
            await self.join()

    async def admit(self) -> bool:
        """Whether the scope's user may open this socket (``allowed_sockets``); if not, the
        handshake is refused (close code 4401) and False returned. Subclasses call it first
        in their own ``connect``, then ``join``."""
        user = self.scope.get("user")
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if (
            user is None
            or not user.is_authenticated
            or not user.is_active
            or (session is not None and key is None)
        ):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.user_id, self.session_key = user.pk, key
        if not await self.still_allowed():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.touched_at = time.monotonic()  # the page was loaded just now
        return True

    async def join(self) -> None:
        """Accept the admitted socket and join the user's group."""
        self.group = user_group(self.user_id)
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

    async def touch(self) -> None:
        """Move the session's idle clock on for a message from the page (at most once a
        ``TOUCH_INTERVAL`` per socket)."""
        if self.session_key is None or time.monotonic() - self.touched_at < TOUCH_INTERVAL:
            return
        self.touched_at = time.monotonic()
        await database_sync_to_async(touch_session)(self.session_key, int(time.time()))

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
        await self.touch()
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
