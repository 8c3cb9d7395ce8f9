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
turn, and the pool stays that small. A socket waiting for its next message waits on its own
buffer only: one reader task per event loop pops the worker's Redis list for all of them
(channels-redis gives each waiting socket two futures of its own, about 4 KiB a socket).
The reader takes up to ``receive_batch`` messages per round trip: channels-redis spends
four per message (clean-up script, blocking pop, copy to the backup, drop from the backup),
and on a busy worker each is a wait for the event loop's turn at the GIL, so a join storm's
board updates queued behind them. At-least-once as in channels-redis: a popped message stays
in the channel's ``$inflight`` backup until it is in its socket's buffer, and a reader that
stopped before that (cancelled, its loop closed) leaves it for the next one to deliver.

Per event loop: channels-redis keeps one lock per channel across event loops; a receive whose
loop ended before its clean-up ran (``async_to_sync(layer.receive)`` in sync code, a test's
own loop) left that lock held and bound to a loop that is gone, and every later receive on
another loop failed ("bound to a different event loop"). Here each loop has its own locks.

Both build on internals of their libraries (``_clean_expired``, ``_brpop_with_clean``,
``_backup_channel_name``, ``receive_buffer``...): pyproject.toml pins channels and channels-redis
exactly, and ``tests/lib/test_channel_layers.py`` names each internal an upgrade changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import weakref

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import ChannelLock
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer
from redis.exceptions import NoScriptError


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


class _ChannelLocksPerLoop:
    """channels-redis's ``ChannelLock`` (acquire, locked, release by channel), one per running
    event loop: a lock left held by a loop that ended is never seen by another loop."""

    def __init__(self):
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChannelLock] = (
            weakref.WeakKeyDictionary()
        )

    def _locks(self) -> ChannelLock:
        loop = asyncio.get_running_loop()
        locks = self._per_loop.get(loop)
        if locks is None:
            locks = self._per_loop[loop] = ChannelLock()
        return locks

    async def acquire(self, channel):
        return await self._locks().acquire(channel)

    def locked(self, channel):
        return self._locks().locked(channel)

    def release(self, channel):
        self._locks().release(channel)


class RedisChannelLayer(ChannelsRedisChannelLayer):
    receive_batch = 100  # messages the reader takes per round trip at most

    def __init__(self, *args, max_concurrent: int = 50, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_concurrent = max_concurrent
        self.receive_clean_locks = _ChannelLocksPerLoop()
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

    # --- receive: one reader per event loop ----------------------------------------------
    # channels-redis makes every socket waiting on its own channel wait on two futures, the
    # shared read lock and its buffer, re-created after each message: about 4 KiB a socket.
    # Here a socket waits on its buffer only, and one reader task per event loop pops the
    # worker's shared Redis list for as long as any socket waits, filling the buffers as
    # channels-redis's lock holder does. A reader error is handed to every waiting socket
    # (as the lock holder's own receive would have raised it) and the next receive starts
    # a new reader.

    async def _brpop_with_clean(self, index, channel, timeout):
        # redis-py answers a blocking pop whose read was cancelled with "nothing yet" (its
        # asyncio timeout turns the cancellation into a timeout, and a blocking command's
        # timeout into None), and channels-redis's receive_single then pops again: the
        # cancellation is lost and the task never ends (an event loop shutting down waits
        # on it forever). A pop that came back empty while its task is being cancelled
        # raises the cancellation instead.
        member = await super()._brpop_with_clean(index, channel, timeout)
        if member is None:
            _raise_if_cancelling()
        return member

    async def receive(self, channel):
        if "!" not in channel:
            return await super().receive(channel)
        self.require_valid_channel_name(channel)  # raises TypeError on a bad name
        real_channel = self.non_local_name(channel)
        if not real_channel.endswith(self.client_prefix + "!"):
            raise ValueError(f"{channel!r} is not a channel of this layer's client")
        buffer = self.receive_buffer[channel]
        if buffer.empty():
            self._waiting = getattr(self, "_waiting", 0) + 1
            try:
                self._start_reader(real_channel)
                message = await buffer.get()
            except BaseException:
                if buffer.empty():
                    self.receive_buffer.pop(channel, None)
                raise
            finally:
                self._waiting -= 1
        else:
            message = buffer.get_nowait()
        if buffer.empty():
            self.receive_buffer.pop(channel, None)
        if isinstance(message, _ReaderFailed):
            raise message.error
        return message

    def _start_reader(self, real_channel: str) -> None:
        loop = asyncio.get_running_loop()
        reader = getattr(self, "_reader", None)
        if reader is not None and not reader.done() and reader.get_loop() is loop:
            return
        self._reader = loop.create_task(self._read(real_channel))

    async def _read(self, real_channel: str) -> None:
        index = self.consistent_hash(real_channel)
        channel_key = self.prefix + real_channel
        delivered = 0  # messages in their buffers whose backup copies are still to be dropped
        try:
            # Ends only right after a check that nobody waits, with no await between: a
            # receive that came while this reader was still running found it running.
            while getattr(self, "_waiting", 0) > 0 or delivered:
                # the drop rides on the next pop: one round trip per batch while messages come
                count = self.receive_batch if self._waiting > 0 else 0
                contents = await self._pop_batch(index, channel_key, delivered, count)
                delivered = 0
                if not contents:
                    if self._waiting == 0:
                        continue
                    contents = await self._pop_blocking(index, channel_key)
                undecodable = None
                for content in contents:
                    try:
                        message_channel, message = self._unpack(content, real_channel)
                    except Exception as error:  # dropped, as channels-redis drops it
                        undecodable = error
                        continue
                    targets = (
                        message_channel if isinstance(message_channel, list) else [message_channel]
                    )
                    for target in targets:
                        self.receive_buffer[target].put_nowait(message)
                delivered = len(contents)
                if undecodable is not None:
                    raise undecodable
        except asyncio.CancelledError:
            # a batch not yet dropped from the backup is delivered again by the next reader
            raise
        except Exception as error:  # every waiter learns of it, as the lock holder would
            if delivered:  # first, so that the next reader does not deliver them again
                with contextlib.suppress(Exception):
                    await self._pop_batch(index, channel_key, delivered, 0)
            for buffer in list(self.receive_buffer.values()):
                buffer.put_nowait(_ReaderFailed(error))

    async def _pop_blocking(self, index: int, channel_key: str) -> list:
        """Wait up to ``brpop_timeout`` for a message, then take it and up to
        ``receive_batch - 1`` more as ``_pop_batch`` does, in one more round trip. The backup
        is empty here (the ``_pop_batch`` before put it back), so channels-redis's clean-up
        script is not needed; as in channels-redis, a reader stopped between the pop and the
        backup loses that one message."""
        popped = await self.connection(index).bzpopmin(channel_key, timeout=self.brpop_timeout)
        if popped is None:
            _raise_if_cancelling()  # as in _brpop_with_clean
            return []
        _, member, score = popped
        return await self._pop_batch(
            index, channel_key, 0, self.receive_batch - 1, first=(member, float(score))
        )

    async def _pop_batch(
        self,
        index: int,
        channel_key: str,
        delivered: int,
        count: int,
        first: tuple[bytes, float] | None = None,
    ) -> list:
        """Drop the ``delivered`` oldest messages from the channel's backup, put whatever else
        the backup holds back on the channel (a reader stopped before delivering it), then
        pop up to ``count`` messages without blocking, oldest first (after ``first``, a
        message already popped, with its score), keeping a copy of each in the backup until
        a later call drops it. One atomic script, one round trip."""
        keys_and_args = [channel_key, self._backup_channel_name(channel_key), delivered, count]
        if first is not None:
            keys_and_args += first
        connection = self.connection(index)
        try:
            return await connection.evalsha(_POP_BATCH_SHA, 2, *keys_and_args)
        except NoScriptError:  # a new or flushed server: load it once
            await connection.script_load(_POP_BATCH)
            return await connection.evalsha(_POP_BATCH_SHA, 2, *keys_and_args)

    def _unpack(self, content: bytes, real_channel: str) -> tuple[str | list[str], dict]:
        """channels-redis's ``receive_single``'s decoding: the message, and the channel (or
        channels, for a group's) named in it."""
        message = self.deserialize(content)
        channel = message.pop("__asgi_channel__", real_channel)
        return channel, message


# KEYS[1] the channel's sorted set, KEYS[2] its backup; ARGV[1] delivered, ARGV[2] count,
# ARGV[3] and ARGV[4] (optional) the message a blocking pop took and its score.
# A backup's members are the channel's (scores kept), so a member put back keeps its place.
_POP_BATCH = """
local delivered = tonumber(ARGV[1])
if delivered > 0 then
    redis.call('ZPOPMIN', KEYS[2], delivered)
end
local left = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #left, 2 do
    redis.call('ZADD', KEYS[1], left[i + 1], left[i])
end
redis.call('DEL', KEYS[2])
local members = {}
if ARGV[3] then
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
    members[1] = ARGV[3]
end
local count = tonumber(ARGV[2])
if count < 1 then
    return members
end
local popped = redis.call('ZPOPMIN', KEYS[1], count)
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
    members[#members + 1] = popped[i]
end
return members
"""
_POP_BATCH_SHA = hashlib.sha1(_POP_BATCH.encode()).hexdigest()  # noqa: S324 - Redis's script id


def _raise_if_cancelling() -> None:
    # redis-py answers a blocking pop whose read was cancelled with "nothing yet"
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class _ReaderFailed:
    """Put in a waiting socket's buffer when the shared reader failed."""

    def __init__(self, error: Exception):
        self.error = error
