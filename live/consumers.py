"""The lecture socket, ``ws/live/<lecture id>/`` (``live.roster`` holds the rules).

One route, two roles, decided at connect by ``roster.access_lecture_socket``:

* an **attendee** (audience member, join window, online lecture) joins the lecture's group,
  is told about presence checks meant for them and answers them:
  ``{"type": "check.answer", "check": id}`` → ``{"type": "check.answer", "status": ...}``;
* a **roster viewer** (the lecturer; officers and administrators who see the lecture) gets
  the roster (``{"type": "roster", ...}``) and live changes (``row``, ``answer``,
  ``check.sent``, ``stale``); it may ask ``{"type": "refresh"}``, and the lecturer
  ``{"type": "check.send"}``.

Anyone else is refused with close code 4404 before the handshake completes, as is a
lecture that does not exist. The roster viewer learns which attendee pages are open from the
attendees' sockets themselves (they announce opening and closing, and answer a viewer's
``roster.who`` when it connects), so nothing but the channel layer is shared between workers.
"""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from django.http import Http404

from audit.models import Action
from audit.services import record_access
from live import roster
from people.consumers import CLOSE_UNAUTHENTICATED, AuthenticatedConsumer

CLOSE_NOT_FOUND = 4404
# A presence check goes to every attendee at once and carries no personal data (an id and a
# deadline), so its fan-out re-checks the account and session at most this often per socket
# instead of three queries per socket per check; sign-out and deactivation still close the
# socket at once (``session.ended``), and every answer is re-checked in full.
RECHECK_EVERY = 30.0
# A roster viewer's snapshot costs a merge of the room's events: at most one this often.
REFRESH_EVERY = 2.0


class LectureConsumer(AuthenticatedConsumer):
    access: roster.SocketAccess | None = None
    lecture_group: str | None = None

    def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            pk = self.scope["url_route"]["kwargs"]["pk"]
            self.access = roster.access_lecture_socket(user, pk)
        except Http404:
            self.close(code=CLOSE_NOT_FOUND)
            return
        super().connect()

    def on_connect(self) -> None:
        lecture = self.access.lecture
        layer = self.channel_layer
        if self.access.is_staff:
            self.open_sockets: dict[int, set[str]] = {}
            self.seen_sockets: set[int] = set()
            self.presence: dict[int, bool] = {}
            self.last_snapshot = 0.0
            self.lecture_group = roster.staff_group(lecture.pk)
            async_to_sync(layer.group_add)(self.lecture_group, self.channel_name)
            record_access(
                user=self.scope["user"],
                action=Action.VIEW,
                obj=lecture,
                detail="live roster socket",
            )
            self.send_json({"type": "hello", "role": "roster", "lecture": lecture.pk})
            self.send_snapshot()
            async_to_sync(layer.group_send)(
                roster.lecture_group(lecture.pk),
                {"type": "roster.who", "reply_to": self.channel_name},
            )
            return
        self.person_id = self.access.person.pk
        self.checked_at = time.monotonic()
        self.lecture_group = roster.lecture_group(lecture.pk)
        async_to_sync(layer.group_add)(self.lecture_group, self.channel_name)
        self.send_json({"type": "hello", "role": "attendee", "lecture": lecture.pk})
        self._announce(roster.staff_group(lecture.pk), opened=True, group=True)
        pending = roster.open_check_for(lecture, self.access.person)
        if pending is not None:
            self.send_json(pending)

    def disconnect(self, code):
        if self.lecture_group:
            layer = self.channel_layer
            async_to_sync(layer.group_discard)(self.lecture_group, self.channel_name)
            if self.access is not None and not self.access.is_staff:
                self._announce(roster.staff_group(self.access.lecture.pk), opened=False, group=True)
        super().disconnect(code)

    # --- attendee -------------------------------------------------------------------------

    def _announce(self, target: str, *, opened: bool, group: bool) -> None:
        message = {
            "type": "roster.socket",
            "person": self.person_id,
            "channel": self.channel_name,
            "open": opened,
        }
        try:
            if group:
                async_to_sync(self.channel_layer.group_send)(target, message)
            else:
                async_to_sync(self.channel_layer.send)(target, message)
        except ChannelFull:  # the viewer is flooded; its next refresh repairs the roster
            pass

    def roster_who(self, event):
        if self.access is not None and not self.access.is_staff:
            self._announce(event["reply_to"], opened=True, group=False)

    def check_asked(self, event):
        """A check was sent: only the persons the server showed in the room are asked."""
        if self.access is None or self.access.is_staff:
            return
        if not roster.is_asked(event, self.person_id):
            return
        if time.monotonic() - self.checked_at >= RECHECK_EVERY:
            if not self.still_allowed():
                self.end()
                return
            self.checked_at = time.monotonic()
        self.send_json(
            {
                "type": "check",
                "check": event["check"],
                "expires_at": event["expires_at"],
                "seconds": event["seconds"],
            }
        )

    # --- roster viewer --------------------------------------------------------------------

    def send_snapshot(self) -> None:
        seen = self.seen_sockets
        open_now = {person for person, channels in self.open_sockets.items() if channels}
        snapshot = roster.roster_snapshot(self.access, open_sockets=open_now, seen_sockets=seen)
        self.presence = snapshot.pop("presence")
        self.last_snapshot = time.monotonic()
        self.send_json(snapshot)

    def _visible(self, person_id: int) -> bool:
        scope = self.access.scope_ids
        return scope is None or person_id in scope

    def roster_socket(self, event):
        if self.access is None or not self.access.is_staff:
            return
        person = event["person"]
        channels = self.open_sockets.setdefault(person, set())
        if event["open"]:
            channels.add(event["channel"])
        else:
            channels.discard(event["channel"])
        self.seen_sockets.add(person)
        if not self._visible(person) or not self.still_allowed():
            return
        state = roster.roster_state(self.presence.get(person), True, bool(channels))
        self.send_json({"type": "row", "person": person, "state": state})

    def roster_answer(self, event):
        if self.access is None or not self.access.is_staff or not self._visible(event["person"]):
            return
        if self.still_allowed():
            self.send_json({"type": "answer", "person": event["person"], "check": event["check"]})

    def roster_check(self, event):
        if self.access is None or not self.access.is_staff or not self.still_allowed():
            return
        asked = [pk for pk in event["asked"] if self._visible(pk)]
        self.send_json({"type": "check.sent", "check": event["check"], "asked": asked})

    def roster_changed(self, event):
        if self.access is not None and self.access.is_staff and self.still_allowed():
            self.send_json({"type": "stale"})

    # --- messages from the page -----------------------------------------------------------

    def handle(self, content: dict) -> None:
        kind = content["type"]
        if kind == "ping":
            self.send_json({"type": "pong"})
        elif self.access.is_staff and kind == "refresh":
            if time.monotonic() - self.last_snapshot >= REFRESH_EVERY:
                self.send_snapshot()
        elif self.access.is_staff and kind == "check.send":
            self.send_check()
        elif not self.access.is_staff and kind == "check.answer":
            result = roster.do_answer_presence_check(content.get("check"), self.access.person)
            self.send_json({"type": "check.answer", "status": result.status, "check": result.check})
        else:
            super().handle(content)

    def send_check(self) -> None:
        lecture = self.access.lecture
        user = self.scope["user"]
        if not (user.is_superuser or lecture.lecturer_id == user.pk):
            self.send_json({"type": "check.refused", "reason": "not_lecturer"})
            return
        try:
            check = roster.do_send_presence_check(lecture, user)
        except roster.CheckRefused as refused:
            self.send_json({"type": "check.refused", "reason": refused.reason})
            return
        self.send_json({"type": "check.queued", "check": check.pk})
