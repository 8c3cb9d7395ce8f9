"""The channel layers, made to scale with the number of sockets in one worker.

In memory (the default without ``REDIS_URL``): channels' ``InMemoryChannelLayer`` sweeps
every channel and every group membership for expired entries on each ``receive`` and
``group_send``, and every socket calls ``receive`` again after each message: a fan-out to a
thousand sockets costs millions of steps (seconds on a small machine). Here the sweep runs at
most once a second, so an expired message (60 s by default) or group membership (a day) goes
at most a second later; nothing else changes.

Redis: channels-redis takes a pooled connection per operation and opens a new one whenever
none is free, so a join storm that runs ahead of Redis opens hundreds of connections (each
with its own handshake, buffers and memory, kept afterwards). Here at most
``max_concurrent`` operations per event loop wait on Redis at once; the others queue for a
turn, and the pool stays that small.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    sweep_every = 1.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._swept_at = float("-inf")

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._swept_at < self.sweep_every:
            return
        self._swept_at = now
        super()._clean_expired()


class RedisChannelLayer(ChannelsRedisChannelLayer):
    def __init__(self, *args, max_concurrent: int = 50, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_concurrent = max_concurrent
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _turn(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Semaphore(self.max_concurrent)
        return turn

    # receive() holds its own connection per worker; these are the sockets' operations
    async def send(self, channel, message):
        async with self._turn():
            return await super().send(channel, message)

    async def group_add(self, group, channel):
        async with self._turn():
            return await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        async with self._turn():
            return await super().group_discard(group, channel)

    async def group_send(self, group, message):
        async with self._turn():
            return await super().group_send(group, message)
