from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.contrib.auth import SESSION_KEY

from lib.broadcast import user_group
from people.models import User

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4403


class AuthenticatedConsumer(JsonWebsocketConsumer):
    """Base for every consumer: refuses anonymous users at connect and re-checks, before each
    message in either direction, that the account is still active and its session still
    exists. A user who signs out (``session.ended`` is sent to their group) or is disabled
    stops receiving at once and the socket is closed.
    """

    group: str | None = None

    def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.group = user_group(user.pk)
        self.accept()
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.on_connect()

    def on_connect(self) -> None:
        """Hook for subclasses, called once the socket is accepted."""

    def disconnect(self, code):
        if self.group:
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def still_allowed(self) -> bool:
        if not User.objects.filter(pk=self.user_id, is_active=True).exists():
            return False
        if self.session_key is None:
            return True  # test scopes without a session: the user check above suffices
        session = self.scope["session"]
        if not session.exists(self.session_key):
            return False
        stored = session.__class__(self.session_key).get(SESSION_KEY)
        return stored is not None and str(stored) == str(self.user_id)

    def end(self) -> None:
        self.close(code=CLOSE_SESSION_ENDED)

    def receive(self, text_data=None, bytes_data=None, **kwargs):
        # channels raises ValueError (and drops the socket) on an empty text frame or a binary
        # frame; treat them like any other message that is not JSON.
        if text_data:
            super().receive(text_data=text_data, **kwargs)
        else:
            self.receive_json(None)

    @classmethod
    def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except (TypeError, ValueError):
            return None

    def receive_json(self, content, **kwargs):
        if not self.still_allowed():
            self.end()
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            self.send_json({"type": "error", "error": "unknown message type"})
            return
        self.handle(content)

    def handle(self, content: dict) -> None:
        self.send_json({"type": "error", "error": "unknown message type"})

    def user_message(self, event):
        if not self.still_allowed():
            self.end()
            return
        self.send_json(event["payload"])

    def session_ended(self, event):
        self.end()


class UserConsumer(AuthenticatedConsumer):
    """A signed-in user's personal channel: notifications and alerts arrive here.

    Clients may send ``{"type": "ping"}`` and get ``{"type": "pong"}``; anything else,
    including text that is not JSON, gets an error message and changes nothing.
    """

    def on_connect(self) -> None:
        self.send_json({"type": "hello"})

    def handle(self, content: dict) -> None:
        if content["type"] == "ping":
            self.send_json({"type": "pong"})
        else:
            super().handle(content)
