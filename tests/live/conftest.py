from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from live.webhooks import jaas_signature_header

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "whsec_tests_9c0d7e1f2a3b4c5d6e7f8a9b0c1d2e3f"
TOKEN = "prosody-token-4b8e1f9a6c2d"
JAAS_URL = "/live/hooks/jaas/"
PROSODY_URL = "/live/hooks/prosody/"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def post_jaas(client, body: bytes, *, secret: str = SECRET, t: int | None = None, header=None):
    if header is None:
        header = jaas_signature_header(secret, int(time.time()) if t is None else t, body)
    headers = {} if header is False else {"X-Jaas-Signature": header}
    return client.post(JAAS_URL, body, content_type="application/json", headers=headers)


def post_prosody(client, body: bytes, *, authorization: str | None = f"Bearer {TOKEN}"):
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.post(PROSODY_URL, body, content_type="application/json", headers=headers)


@pytest.fixture
def hooks_configured(settings):
    settings.JAAS_WEBHOOK_SECRET = SECRET
    settings.PROSODY_WEBHOOK_TOKEN = TOKEN
