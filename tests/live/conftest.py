from __future__ import annotations

import datetime as dt
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


# The recorded payloads in fixtures/ belong to this room and name this participant id.
FIXTURE_ROOM = "lecture-2026-03-law-basics"
FIXTURE_USER_ID = "u-7f3c9a"
FIXTURE_START = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
FIXTURE_END = dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC)


def make_fixture_lecture(org):
    """The lecture the recorded payloads belong to: its room, by ``org.lecturer``, for the
    east office, audience fixed, with ``org.person`` holding the payloads' participant id."""
    from live.audience import do_resolve_audience
    from live.models import Lecture, LectureAudience

    lecture = Lecture.objects.create(
        title="法治讲座：社区矫正法要点",
        lecturer=org.lecturer,
        lecturer_title="检察官",
        start=FIXTURE_START,
        end=FIXTURE_END,
        room_name=FIXTURE_ROOM,
    )
    lecture.audience_offices.add(org.east)
    do_resolve_audience(lecture)
    LectureAudience.objects.filter(lecture=lecture, person=org.person).update(
        participant_id=FIXTURE_USER_ID
    )
    return lecture


@pytest.fixture
def fixture_lecture(org):
    return make_fixture_lecture(org)


@pytest.fixture
def hooks_configured(settings, fixture_lecture):
    """Both hook secrets set, and the recorded payloads' lecture in the database."""
    settings.JAAS_WEBHOOK_SECRET = SECRET
    settings.PROSODY_WEBHOOK_TOKEN = TOKEN
