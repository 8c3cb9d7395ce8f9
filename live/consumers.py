"""The lecture socket, ``ws/live/<lecture id>/`` (``live.roster`` holds the rules).

One route, two roles, decided at connect by ``roster.access_lecture_socket`` (for the join
storm, ``roster.access_attendee_socket`` first: the same answer in one query):

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

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.http import Http404

from audit.models import Action
from audit.services import record_access
from live import roster
from people.consumers import AuthenticatedConsumer

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
# A presence check goes to every attendee at once and carries no personal data (an id and a
# deadline), so its fan-out re-checks the account and session at most this often per socket
# (and those re-checks are batched across sockets, ``people.consumers``); sign-out and
# deactivation still close the socket at once (``session.ended``), and every answer is
# re-checked in full.
RECHECK_EVERY = 30.0
# A roster viewer's snapshot costs a merge of the room's events: at most one this often.
REFRESH_EVERY = 2.0


class LectureConsumer(AuthenticatedConsumer):
    """Asynchronous: an attendee's socket keeps ids only (lecture, person) and handles the
    fan-out and the roster's announcements on the event loop; it reaches the database at
    connect (one query: ``roster.access_attendee_socket``), for answers and for the
    re-checks. A roster viewer's changes are re-checked in batches (``_push``)."""

    lecture_id: int | None = None
    lecture_group: str | None = None
    person_id: int | None = None  # the attendee's; None for a roster viewer
    pending: dict | None = None  # an attendee's check to show once connected
    access: roster.SocketAccess | None = None  # a roster viewer's only

    @property
    def is_staff(self) -> bool:
        return self.access is not None

    async def connect(self):
        if not await self.admit():
            return
        user = self.scope["user"]
        pk = self.scope["url_route"]["kwargs"]["pk"]
        layer = self.channel_layer
        # Join the attendees' group before looking for a pending check, so that a check sent
        # meanwhile is not missed; nothing reaches the page before the access is known (the
        # socket handles its messages one at a time), and anyone else leaves it again.
        attendees = roster.lecture_group(pk)
        await layer.group_add(attendees, self.channel_name)
        try:
            found = await database_sync_to_async(self._access)(user, pk)
        except BaseException as error:
            await layer.group_discard(attendees, self.channel_name)
            if not isinstance(error, Http404):
                raise
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.lecture_id = pk
        if isinstance(found, roster.SocketAccess):
            await layer.group_discard(attendees, self.channel_name)
            self.access = found
            self.lecture_group = roster.staff_group(pk)
        else:
            self.person_id, self.pending = found
            self.lecture_group = attendees
        await self.join()

    @staticmethod
    def _access(user, pk: int) -> roster.SocketAccess | tuple[int, dict | None]:
        """A roster viewer's access, or an attendee's (person id, pending check); Http404
        for anyone else. One query for an attendee of a lecture whose audience is fixed."""
        found = roster.access_attendee_socket(user.pk, pk)
        if found is not None:
            return found
        access = roster.access_lecture_socket(user, pk)
        if access.is_staff:
            return access
        return access.person.pk, roster.open_check_for(access.lecture, access.person)

    async def on_connect(self) -> None:
        layer = self.channel_layer
        if self.is_staff:
            self.open_sockets: dict[int, set[str]] = {}
            self.seen_sockets: set[int] = set()
            self.presence: dict[int, bool] = {}
            self.last_snapshot = 0.0
            self.outbox: list[dict] = []
            self.flushing: asyncio.Task | None = None
            await layer.group_add(self.lecture_group, self.channel_name)
            snapshot = await database_sync_to_async(self._open_roster)()
            await self.send_json({"type": "hello", "role": "roster", "lecture": self.lecture_id})
            await self._send_snapshot(snapshot)
            await layer.group_send(
                roster.lecture_group(self.lecture_id),
                {"type": "roster.who", "reply_to": self.channel_name},
            )
            return
        self.checked_at = time.monotonic()
        await self.send_json({"type": "hello", "role": "attendee", "lecture": self.lecture_id})
        await self._announce(roster.staff_group(self.lecture_id), opened=True, group=True)
        pending, self.pending = self.pending, None
        if pending is not None:
            await self.send_json(pending)

    async def disconnect(self, code):
        if self.lecture_group:
            layer = self.channel_layer
            await layer.group_discard(self.lecture_group, self.channel_name)
            if self.is_staff:
                if self.flushing is not None:
                    self.flushing.cancel()
            else:
                await self._announce(roster.staff_group(self.lecture_id), opened=False, group=True)
        await super().disconnect(code)

    # --- attendee -------------------------------------------------------------------------

    async def _announce(self, target: str, *, opened: bool, group: bool) -> None:
        message = {
            "type": "roster.socket",
            "person": self.person_id,
            "channel": self.channel_name,
            "open": opened,
        }
        try:
            if group:
                await self.channel_layer.group_send(target, message)
            else:
                await self.channel_layer.send(target, message)
        except ChannelFull:  # the viewer is flooded; its next refresh repairs the roster
            pass

    async def roster_who(self, event):
        if self.person_id is not None:
            await self._announce(event["reply_to"], opened=True, group=False)

    async def check_asked(self, event):
        """A check was sent: only the persons the server showed in the room are asked."""
        if self.person_id is None or not roster.is_asked(event, self.person_id):
            return
        if time.monotonic() - self.checked_at >= RECHECK_EVERY:
            if not await self.still_allowed():
                await self.end()
                return
            self.checked_at = time.monotonic()
        await self.send_json(
            {
                "type": "check",
                "check": event["check"],
                "expires_at": event["expires_at"],
                "seconds": event["seconds"],
            }
        )

    # --- roster viewer --------------------------------------------------------------------

    def _open_roster(self) -> dict:
        record_access(
            user=self.scope["user"],
            action=Action.VIEW,
            obj=self.access.lecture,
            detail="live roster socket",
        )
        return self._snapshot()

    def _snapshot(self) -> dict:
        open_now = {person for person, channels in self.open_sockets.items() if channels}
        return roster.roster_snapshot(
            self.access, open_sockets=open_now, seen_sockets=set(self.seen_sockets)
        )

    async def _send_snapshot(self, snapshot: dict) -> None:
        self.presence = snapshot.pop("presence")
        self.last_snapshot = time.monotonic()
        await self.send_json(snapshot)

    def _visible(self, person_id: int) -> bool:
        scope = self.access.scope_ids
        return scope is None or person_id in scope

    async def _push(self, message: dict) -> None:
        """Send a change to the roster viewer after re-checking its account and session.

        Changes arrive by the thousand in a join storm; they queue here and go out in order,
        each batch after one re-check started once every change in it had arrived (the same
        guarantee as a re-check per change, at the cost of one)."""
        self.outbox.append(message)
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        try:
            while self.outbox:
                batch, self.outbox = self.outbox, []
                if await self.still_allowed():
                    for message in batch:
                        await self.send_json(message)
        except asyncio.CancelledError:
            raise
        except Exception:  # as a failing handler would: the socket closes
            log.exception("live roster socket: push failed")
            await self.close(code=1011)

    async def _drain(self) -> None:
        """Wait for queued changes to go out, so a reply comes after them as it would have."""
        if self.flushing is not None and not self.flushing.done():
            await asyncio.shield(self.flushing)

    async def roster_socket(self, event):
        if not self.is_staff:
            return
        person = event["person"]
        channels = self.open_sockets.setdefault(person, set())
        if event["open"]:
            channels.add(event["channel"])
        else:
            channels.discard(event["channel"])
        self.seen_sockets.add(person)
        if not self._visible(person):
            return
        state = roster.roster_state(self.presence.get(person), True, bool(channels))
        await self._push({"type": "row", "person": person, "state": state})

    async def roster_answer(self, event):
        if self.is_staff and self._visible(event["person"]):
            await self._push({"type": "answer", "person": event["person"], "check": event["check"]})

    async def roster_check(self, event):
        if not self.is_staff:
            return
        asked = [pk for pk in event["asked"] if self._visible(pk)]
        await self._push({"type": "check.sent", "check": event["check"], "asked": asked})

    async def roster_changed(self, event):
        if self.is_staff:
            await self._push({"type": "stale"})

    # --- messages from the page -----------------------------------------------------------

    async def handle(self, content: dict) -> None:
        kind = content["type"]
        if self.is_staff:
            await self._drain()
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif self.is_staff and kind == "refresh":
            if time.monotonic() - self.last_snapshot >= REFRESH_EVERY:
                await self._send_snapshot(await database_sync_to_async(self._snapshot)())
        elif self.is_staff and kind == "check.send":
            await self.send_json(await database_sync_to_async(self.send_check)())
        elif not self.is_staff and kind == "check.answer":
            result = await database_sync_to_async(roster.do_answer_presence_check)(
                content.get("check"), self.person_id
            )
            await self.send_json(
                {"type": "check.answer", "status": result.status, "check": result.check}
            )
        else:
            await super().handle(content)

    def send_check(self) -> dict:
        """Send a presence check as the socket's user (the lecturer or a superuser); the reply
        for the page."""
        lecture = self.access.lecture
        user = self.scope["user"]
        if not (user.is_superuser or lecture.lecturer_id == user.pk):
            return {"type": "check.refused", "reason": "not_lecturer"}
        try:
            check = roster.do_send_presence_check(lecture, user)
        except roster.CheckRefused as refused:
            return {"type": "check.refused", "reason": refused.reason}
        return {"type": "check.queued", "check": check.pk}
