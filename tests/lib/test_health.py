from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings

from lib.broadcast import send_to_user
from tests.factories import login_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REDIS_DOWN = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # Port 9 (discard) on loopback: nothing listens, so every connection is refused.
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:9/0", "max_connections": 10}]},
    }
}


def test_health_reports_everything_up(client):
    response = client.get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert any("ChannelLayer" in name for name in body)
    assert set(body.values()) == {"OK"}


def test_redis_down_degrades_without_breaking_pages(client, org):
    with override_settings(CHANNEL_LAYERS=REDIS_DOWN):
        assert get_channel_layer().__class__.__name__ == "RedisChannelLayer"
        response = client.get("/health/", HTTP_ACCEPT="application/json")
        assert response.status_code == 503
        body = response.json()
        down = [v for k, v in body.items() if "ChannelLayer" in k]
        assert down and "unreachable" in down[0]
        assert "Traceback" not in response.text and 'File "' not in response.text
        # HTTP pages still work, and a broadcast is dropped rather than failing the request.
        client.force_login(org.learner)
        assert client.get("/").status_code == 200
        send_to_user(org.learner.pk, {"type": "notice"})  # runs on commit: must not raise
        login_staff(client, org.officer)
        assert client.get("/admin/people/").status_code == 200
        client.post("/accounts/logout/")  # closing sockets on logout also degrades quietly
