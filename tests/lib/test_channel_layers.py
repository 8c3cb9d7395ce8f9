"""lib.channel_layers: channels' in-memory layer with its expiry sweep once a second."""

from __future__ import annotations

from lib.channel_layers import InMemoryChannelLayer


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
