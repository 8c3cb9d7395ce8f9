"""The officer's live board of one call, ``ws/rollcall/<call id>/``.

Every officer or administrator viewing the call page (``/admin/rollcall/calls/<id>/``) opens
this socket; it joins the call's group (``services.board_group``) and passes on the rows that
``services.push_board`` sends there after each change (ringing, joined, confirmed, missed,
excused, not possible), only those of persons its user sees, as the page shows them; on
opening it first sends those rows as they are (a change between the page and the socket is
not lost). A user
who may not make calls, or who sees nobody in the call, is refused (4404) and nothing is sent.
The account and session are re-checked before each delivery (``AuthenticatedConsumer``),
and the scope is read again at most every ``SCOPE_EVERY`` seconds before one
(``services.board_targets_now``): a viewer moved to another office stops receiving the rows
of persons they no longer see, and one who sees nobody in the call any more is closed (4404).

A group call's events arrive faster than one re-check goes through the worker's one
database thread (200 joins, each a webhook request on that same thread): the rows that
arrive while a re-check runs wait for the next one, and one re-check then passes on all of
them. Every row is still sent only after a check that was asked after it arrived, in order.
"""

from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async

from people.consumers import AuthenticatedConsumer
from rollcall.services import access_board_socket, board_group, board_targets_now

CLOSE_NOT_FOUND = 4404
SCOPE_EVERY = 30.0  # seconds between two reads of the viewer's scope


class BoardConsumer(AuthenticatedConsumer):
    call_id: int | None = None
    board: str | None = None
    targets: frozenset[int] = frozenset()
    pending: list[dict]
    flushing: asyncio.Task | None = None
    scope_read_at: float = 0.0

    async def connect(self):
        self.pending = []
        if not await self.admit():
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        # Join the call's group before reading the scope, so that no change made meanwhile is
        # missed; nothing reaches the page before the scope is known (a socket handles its
        # messages one at a time), and a refused socket leaves the group again.
        group = board_group(pk)
        await self.channel_layer.group_add(group, self.channel_name)
        try:
            rows = await database_sync_to_async(access_board_socket)(self.scope["user"], pk)
        except BaseException:
            await self.channel_layer.group_discard(group, self.channel_name)
            raise
        if rows is None:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.call_id, self.board = pk, group
        self.targets = frozenset(row["target"] for row in rows)
        self.scope_read_at = time.monotonic()
        await self.join()
        # the rows as they are now: a change between the page's rendering and this socket
        # shows all the same
        await self.send_json({"type": "hello", "call": pk, "targets": len(rows)})
        for row in rows:
            await self.send_json(row)

    async def disconnect(self, code):
        if self.flushing is not None:
            self.flushing.cancel()
        if self.board:
            await self.channel_layer.group_discard(self.board, self.channel_name)
        await super().disconnect(code)

    async def rollcall_rows(self, event):
        rows = [row for row in event["rows"] if row.get("target") in self.targets]
        if not rows:
            return
        self.pending.extend(rows)
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        """Pass on the pending rows after a re-check asked once they had arrived; rows that
        arrive meanwhile go after the next one."""
        while self.pending:
            rows, self.pending = self.pending, []
            if not await self.still_allowed():
                self.pending = []
                await self.end()
                return
            if time.monotonic() - self.scope_read_at >= SCOPE_EVERY:
                self.targets = await database_sync_to_async(board_targets_now)(
                    self.scope["user"].pk, self.call_id
                )
                self.scope_read_at = time.monotonic()
                if not self.targets:
                    self.pending = []
                    await self.close(code=CLOSE_NOT_FOUND)
                    return
            for row in rows:
                if row.get("target") in self.targets:
                    await self.send_json(row)

    async def handle(self, content: dict) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        else:
            await super().handle(content)
