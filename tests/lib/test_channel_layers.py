"""lib.channel_layers: channels' in-memory layer with its expiry sweep once a second, the Redis
layer with one reader per event loop, and the library internals both build on."""

from __future__ import annotations

import inspect

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import ChannelLock
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer

from lib.channel_layers import InMemoryChannelLayer

# lib/channel_layers.py overrides or calls these internals of channels and channels-redis,
# which is why pyproject.toml pins both exactly: (class, name, signature).
LIBRARY_INTERNALS = [
    (ChannelsInMemoryChannelLayer, "_clean_expired", "(self)"),
    (ChannelsRedisChannelLayer, "_brpop_with_clean", "(self, index, channel, timeout)"),
    (ChannelsRedisChannelLayer, "receive_single", "(self, channel)"),
    (ChannelsRedisChannelLayer, "non_local_name", "(self, name)"),
    (ChannelsRedisChannelLayer, "require_valid_channel_name", "(self, name, receive=False)"),
    (ChannelsRedisChannelLayer, "_backup_channel_name", "(self, channel)"),
    (ChannelsRedisChannelLayer, "consistent_hash", "(self, value)"),
    (ChannelsRedisChannelLayer, "connection", "(self, index)"),
    (ChannelsRedisChannelLayer, "deserialize", "(self, message)"),
    (ChannelLock, "acquire", "(self, channel)"),
    (ChannelLock, "locked", "(self, channel)"),
    (ChannelLock, "release", "(self, channel)"),
]
# Attributes of a channels-redis layer it reads, and names of its own it adds (which must not
# be the library's).
REDIS_LAYER_ATTRIBUTES = [
    "receive_buffer",
    "client_prefix",
    "receive_clean_locks",
    "prefix",
    "brpop_timeout",
]
OUR_NAMES = [
    "sweep_every",
    "_swept_at",
    "max_concurrent",
    "_turns",
    "_turn",
    "_waiting",
    "_reader",
    "_start_reader",
    "_read",
    "receive_batch",
    "_pop_batch",
    "_unpack",
]


def test_the_library_internals_the_layers_build_on_are_still_there():
    """After upgrading channels or channels-redis: whatever this names, read the library's new
    code for it and check lib/channel_layers.py still holds, then move the pin."""
    changed = []
    for base, name, signature in LIBRARY_INTERNALS:
        found = getattr(base, name, None)
        if found is None or str(inspect.signature(found)) != signature:
            changed.append(f"{base.__module__}.{base.__qualname__}.{name}{signature}")
    redis_layer = ChannelsRedisChannelLayer(hosts=["redis://127.0.0.1:6379/12"])  # no connection
    for name in REDIS_LAYER_ATTRIBUTES:
        if not hasattr(redis_layer, name):
            changed.append(f"channels_redis.core.RedisChannelLayer().{name}")
    memory_layer = ChannelsInMemoryChannelLayer()
    for name in OUR_NAMES:
        if hasattr(redis_layer, name) or hasattr(memory_layer, name):
            changed.append(f"{name} (now the library's too)")
    assert not changed, (
        "lib/channel_layers.py builds on internals of channels / channels-redis that an "
        f"upgrade changed: {', '.join(changed)}"
    )


async def test_channels_still_sweeps_expired_entries_through_clean_expired():
    """The in-memory layer's throttle works only while channels' own receive and group_send
    call ``_clean_expired``."""
    layer = ChannelsInMemoryChannelLayer()
    swept = []
    layer._clean_expired = lambda: swept.append(True)
    await layer.group_send("g", {"type": "x"})
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "x"})
    await layer.receive(channel)
    assert len(swept) == 2, "channels no longer calls InMemoryChannelLayer._clean_expired"


async def test_messages_and_groups_behave_as_channels():
    layer = InMemoryChannelLayer()
    a, b = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", a)
    await layer.group_add("g", b)
    message = {"type": "check.asked", "asked": ",1,2,"}
    await layer.group_send("g", message)
    assert await layer.receive(a) == message
    assert await layer.receive(b) == message
    await layer.group_discard("g", b)
    await layer.send(a, {"type": "x"})
    assert await layer.receive(a) == {"type": "x"}


async def test_expired_messages_still_take_their_channel_out_of_groups():
    layer = InMemoryChannelLayer(expiry=-1)  # every message is already expired
    dead, live = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", dead)
    await layer.send(dead, {"type": "never.read"})
    layer._clean_expired()
    assert dead not in layer.groups.get("g", {})
    # at most one sweep a second: a second expired message waits for the next sweep
    await layer.group_add("g", live)
    await layer.send(live, {"type": "never.read"})
    layer._clean_expired()
    assert live in layer.groups["g"]
    layer._swept_at -= layer.sweep_every
    layer._clean_expired()
    assert live not in layer.groups.get("g", {})


# --- Redis: one reader per event loop (skipped without a Redis server) ----------------------


def _redis_layer(**options):
    import os
    import socket

    import pytest

    from lib.channel_layers import RedisChannelLayer

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    options = {"prefix": f"test-{os.getpid()}", "max_concurrent": 5, **options}
    return RedisChannelLayer(hosts=[url], **options)


async def test_redis_sockets_wait_on_their_buffer_and_one_reader_serves_them_all():
    import asyncio

    layer = _redis_layer()
    try:
        channels = [await layer.new_channel() for _ in range(50)]
        for channel in channels:
            await layer.group_add("g", channel)
        waiting = [asyncio.create_task(layer.receive(channel)) for channel in channels]
        await asyncio.sleep(0.05)
        # one reader, and no per-socket lock waiters (channels-redis's receive_lock)
        assert layer._waiting == 50
        assert layer.receive_lock is None
        await layer.group_send("g", {"type": "check.asked", "check": 1})
        got = await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)
        assert got == [{"type": "check.asked", "check": 1}] * 50
        assert layer._waiting == 0
        # a direct message, then one sent before anyone waits (it waits in the buffer)
        await layer.send(channels[0], {"type": "x"})
        assert await asyncio.wait_for(layer.receive(channels[0]), 10) == {"type": "x"}
        await layer.send(channels[1], {"type": "y"})
        assert await asyncio.wait_for(layer.receive(channels[1]), 10) == {"type": "y"}
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_cancelled_redis_receive_leaves_no_buffer_and_a_reader_error_reaches_waiters():
    import asyncio
    from unittest import mock

    import pytest

    layer = _redis_layer()
    try:
        channel = await layer.new_channel()
        task = asyncio.create_task(layer.receive(channel))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert channel not in layer.receive_buffer
        assert layer._waiting == 0
        layer._reader.cancel()
        with mock.patch.object(layer, "_pop_batch", side_effect=ConnectionError("down")):
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(layer.receive(await layer.new_channel()), 10)
        # the next receive starts a new reader
        other = await layer.new_channel()
        await layer.send(other, {"type": "z"})
        assert await asyncio.wait_for(layer.receive(other), 10) == {"type": "z"}
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_redis_pop_that_swallows_its_cancellation_still_ends_the_task():
    """redis-py turns a cancelled blocking read into "nothing yet"; the task must still end."""
    import asyncio
    from unittest import mock

    import pytest
    from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer

    layer = _redis_layer()

    swallowed = []

    async def pop_like_redis_py(self, index, channel, timeout):
        try:
            await asyncio.sleep(timeout)
        except asyncio.CancelledError:
            if swallowed:  # only the first time, so that a failing test can still clean up
                raise
            swallowed.append(True)
            return None  # what redis-py's timeout context makes of the cancellation
        return None

    try:
        with mock.patch.object(ChannelsRedisChannelLayer, "_brpop_with_clean", pop_like_redis_py):
            task = asyncio.create_task(layer.receive_single(layer.client_prefix + "!"))
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.wait({task}, timeout=3)
            ended = task.done()
            if not ended:
                task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert swallowed and ended, "the cancellation was lost and the receive went on"
    finally:
        await layer.close_pools()


def test_an_event_loop_with_a_reader_still_popping_shuts_down():
    """The health check's pattern: receive once on a short-lived loop, then close the loop."""
    import asyncio
    import threading

    layer = _redis_layer()

    async def ping():
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        return await asyncio.wait_for(layer.receive(channel), 5)

    results = []
    thread = threading.Thread(target=lambda: results.extend(asyncio.run(ping()) for _ in range(5)))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "an event loop could not shut down past the reader"
    assert results == [{"type": "health.ping"}] * 5


def test_a_redis_receive_whose_loop_ended_does_not_break_the_next_loop():
    """``async_to_sync(layer.receive)`` ends its event loop while channels-redis's per-channel
    lock is bound to it; two receives in a row on the next loop must still work (they raised
    "bound to a different event loop" and broke every socket of the worker)."""
    import asyncio

    from asgiref.sync import async_to_sync

    layer = _redis_layer()

    async def two_in_a_row():
        first, second = await layer.new_channel(), await layer.new_channel()
        await layer.send(first, {"type": "b"})
        await layer.send(second, {"type": "c"})
        return await asyncio.wait_for(
            asyncio.gather(layer.receive(first), layer.receive(second)), 10
        )

    try:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)("g", channel)
        async_to_sync(layer.group_send)("g", {"type": "a"})
        assert async_to_sync(layer.receive)(channel) == {"type": "a"}
        assert asyncio.run(two_in_a_row()) == [{"type": "b"}, {"type": "c"}]
    finally:
        async_to_sync(layer.flush)()


# --- Redis: the reader takes a batch per round trip, at least once ----------------------------


async def _send_numbered(layer, channels, count):
    """``count`` messages numbered in sending order, every seventh to the group of all
    ``channels`` (one Redis entry naming them all), the others to one channel in turn.
    Returns what each channel should receive, in order."""
    expected = {channel: [] for channel in channels}
    for number in range(count):
        message = {"type": "n", "n": number}
        if number % 7 == 0:
            await layer.group_send("batch", message)
            for channel in channels:
                expected[channel].append(number)
        else:
            channel = channels[number % len(channels)]
            await layer.send(channel, message)
            expected[channel].append(number)
    return expected


async def _receive_numbers(layer, channel, count):
    return [(await layer.receive(channel))["n"] for _ in range(count)]


async def _redis_count(layer, key):
    return await layer.connection(0).zcard(key)


async def test_the_redis_reader_takes_messages_in_batches_in_order_once_each():
    import asyncio

    layer = _redis_layer(prefix=f"test-batch-{__import__('os').getpid()}", capacity=1000)
    taken = []
    pop_batch = layer._pop_batch

    async def counted(*args, **kwargs):
        members = await pop_batch(*args, **kwargs)
        taken.append(len(members))
        return members

    layer._pop_batch = counted
    try:
        channels = [await layer.new_channel() for _ in range(3)]
        for channel in channels:
            await layer.group_add("batch", channel)
        expected = await _send_numbered(layer, channels, 250)
        got = await asyncio.wait_for(
            asyncio.gather(*(_receive_numbers(layer, c, len(expected[c])) for c in channels)),
            timeout=20,
        )
        assert dict(zip(channels, got, strict=True)) == expected
        # nothing was left over: the next message on each channel is the one sent next
        for channel in channels:
            await layer.send(channel, {"type": "n", "n": "end"})
            assert (await asyncio.wait_for(layer.receive(channel), 10))["n"] == "end"
        # 250 messages (36 of them group sends, one entry each): three round trips, not 250
        assert [n for n in taken if n][:3] == [layer.receive_batch, layer.receive_batch, 50]
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_redis_reader_cancelled_mid_batch_leaves_the_batch_for_the_next_one():
    """The reader is cancelled after Redis popped a batch but before the reply reached the
    buffers: the batch waits in the backup, and the next reader delivers it, once, in order;
    the batch delivered before it is not delivered again."""
    import asyncio
    import os

    import pytest

    layer = _redis_layer(prefix=f"test-cancel-{os.getpid()}")
    layer.receive_batch = 10
    pop_batch = layer._pop_batch
    calls = []
    popped_second = asyncio.Event()

    async def stalls_on_the_second_batch(*args, **kwargs):
        calls.append(args)
        members = await pop_batch(*args, **kwargs)
        if len(calls) == 2:
            popped_second.set()
            await asyncio.Event().wait()  # the reply "still on its way" when cancelled
        return members

    layer._pop_batch = stalls_on_the_second_batch
    try:
        channel = await layer.new_channel()
        channel_key = layer.prefix + layer.non_local_name(channel)
        backup_key = layer._backup_channel_name(channel_key)
        for number in range(30):
            await layer.send(channel, {"type": "n", "n": number})
        first = await asyncio.wait_for(_receive_numbers(layer, channel, 10), 10)
        assert first == list(range(10))
        waiting = asyncio.create_task(layer.receive(channel))
        await asyncio.wait_for(popped_second.wait(), 10)
        # the first batch was dropped from the backup; the second waits there
        assert await _redis_count(layer, backup_key) == 10
        assert await _redis_count(layer, channel_key) == 10
        layer._reader.cancel()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(asyncio.CancelledError):
            await layer._reader
        layer._pop_batch = pop_batch
        rest = await asyncio.wait_for(_receive_numbers(layer, channel, 20), 10)
        assert rest == list(range(10, 30))
        await layer.send(channel, {"type": "n", "n": "end"})
        assert (await asyncio.wait_for(layer.receive(channel), 10))["n"] == "end"
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_redis_reader_whose_batch_cannot_be_decoded_drops_it_once():
    """As channels-redis: a message that cannot be decoded reaches the waiters as an error and
    is not delivered again (it would fail every later reader)."""
    import asyncio
    import os

    import pytest

    layer = _redis_layer(prefix=f"test-undecodable-{os.getpid()}")
    try:
        channel = await layer.new_channel()
        channel_key = layer.prefix + layer.non_local_name(channel)
        await layer.connection(0).zadd(channel_key, {b"not msgpack at all": 1.0})
        with pytest.raises(Exception):  # noqa: B017 - whatever msgpack raises
            await asyncio.wait_for(layer.receive(channel), 10)
        await layer.send(channel, {"type": "after"})
        assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "after"}
        assert await _redis_count(layer, layer._backup_channel_name(channel_key)) == 0
    finally:
        await layer.flush()
        await layer.close_pools()


async def test_a_redis_reader_whose_blocking_pop_swallows_its_cancellation_still_ends():
    """The reader's own blocking pop (not channels-redis's) has the same redis-py quirk."""
    import asyncio
    from unittest import mock

    import pytest

    layer = _redis_layer()
    popping, swallowed = asyncio.Event(), []

    async def bzpopmin_like_redis_py(key, timeout=0):
        popping.set()
        try:
            await asyncio.sleep(timeout)
        except asyncio.CancelledError:
            if swallowed:  # only the first time, so that a failing test can still clean up
                raise
            swallowed.append(True)
            return None
        return None

    try:
        with mock.patch.object(layer.connection(0), "bzpopmin", bzpopmin_like_redis_py):
            waiting = asyncio.create_task(layer.receive(await layer.new_channel()))
            await asyncio.wait_for(popping.wait(), 10)
            reader = layer._reader
            reader.cancel()
            await asyncio.wait({reader}, timeout=3)
            ended = reader.done()
            if not ended:
                reader.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reader
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        assert swallowed and ended, "the cancellation was lost and the reader went on"
    finally:
        await layer.close_pools()
