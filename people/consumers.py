from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer

from lib.broadcast import user_group

CLOSE_UNAUTHENTICATED = 4401


class UserConsumer(JsonWebsocketConsumer):
    """A signed-in user's personal channel: notifications and alerts arrive here.

    Clients may send ``{"type": "ping"}`` and get ``{"type": "pong"}``; anything else,
    including text that is not JSON, gets an error message and changes nothing.
    """

    group: str | None = None

    def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        self.accept()
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.send_json({"type": "hello"})

    def disconnect(self, code):
        if self.group:
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    @classmethod
    def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except (TypeError, ValueError):
            return None

    def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send_json({"type": "pong"})
        else:
            self.send_json({"type": "error", "error": "unknown message type"})

    def user_message(self, event):
        self.send_json(event["payload"])
