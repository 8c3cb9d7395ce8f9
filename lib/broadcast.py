"""The one way to push a message to a user's open sockets.

Messages go out only after the surrounding transaction commits, so nobody is told about a
row that was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_to_user(user_id: int, payload: dict[str, Any]) -> None:
    """Queue ``payload`` for the user's sockets, sent on commit. Never raises: a down channel
    layer must not break the request that caused the message."""

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "user.message", "payload": payload}
            )
        except Exception:  # the layer (e.g. Redis) is down: degrade, do not fail the request
            log.warning("channel layer unavailable; message to user %s dropped", user_id)

    transaction.on_commit(_send)


def send_to_users(messages: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Queue each ``(user id, payload)`` for that user's sockets, in one trip to the channel
    layer after commit: the sends run concurrently on the event loop instead of one
    ``async_to_sync`` round trip each (a group roll-call rings hundreds of persons from the
    request's thread). Never raises, as ``send_to_user``; a failed send drops that message
    only."""
    messages = list(messages)
    if not messages:
        return

    async def _all(layer) -> list:
        return await asyncio.gather(
            *(
                layer.group_send(user_group(user_id), {"type": "user.message", "payload": payload})
                for user_id, payload in messages
            ),
            return_exceptions=True,
        )

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            outcomes = async_to_sync(_all)(layer)
        except Exception:
            log.warning("channel layer unavailable; %s messages to users dropped", len(messages))
            return
        failed = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
        if failed:
            log.warning("channel layer unavailable; %s messages to users dropped", failed)

    transaction.on_commit(_send)


def end_user_sockets(user_id: int) -> None:
    """Close every open socket of a user (sign-out, account disabled). Never raises."""

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.ended"})
        except Exception:
            log.warning("channel layer unavailable; sockets of user %s not closed", user_id)

    transaction.on_commit(_send)


def send_to_group(group: str, message: dict[str, Any]) -> None:
    """Queue a channel-layer ``message`` (with its handler's ``type``) for every socket in
    ``group``, sent on commit. Never raises, as ``send_to_user``. The consumers of the group
    decide who of them may see it."""

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            log.warning("channel layer unavailable; message to group %s dropped", group)

    transaction.on_commit(_send)
