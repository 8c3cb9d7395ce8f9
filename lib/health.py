"""``/health/``: what is up and what is down, in one line each, never a stack trace.

Answers 200 when everything is up and 503 (not 500) when something is down, so monitoring
can tell "degraded" from "the application crashed".
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from channels.layers import get_channel_layer
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class ChannelLayer(HealthCheck):
    """Send a message to a fresh channel and read it back (Redis when configured)."""

    timeout = dt.timedelta(seconds=3)

    async def run(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            raise ServiceUnavailable("no channel layer configured")
        try:
            channel = await layer.new_channel("health.")
            await layer.send(channel, {"type": "health.ping"})
            message = await asyncio.wait_for(layer.receive(channel), 2)
        except Exception as exc:  # any layer failure means live features are down
            raise ServiceUnavailable("channel layer unreachable (live features degraded)") from exc
        if message.get("type") != "health.ping":
            raise ServiceUnavailable("channel layer returned an unexpected message")


class HealthView(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "health_check.checks.Storage",
        "lib.health.ChannelLayer",
    )

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response
