from __future__ import annotations

import datetime as dt
import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AccessEvent, AppendOnlyError
from live.jitsi import participant_id
from live.models import EventType, PresenceEvent, Provider
from live.services import do_store_presence_event
from live.webhooks import (
    BadPayload,
    BadSignature,
    BadToken,
    StaleTimestamp,
    parse_jaas_event,
    parse_prosody_event,
    prosody_dedupe_key,
    sign_jaas,
    verify_bearer_token,
    verify_jaas_signature,
)
from tests.live.conftest import (
    FIXTURES,
    JAAS_URL,
    PROSODY_URL,
    SECRET,
    TOKEN,
    load,
    post_jaas,
    post_prosody,
    raw,
)

JAAS_SAMPLES = {
    "PARTICIPANT_JOINED": "jaas_participant_joined.json",
    "PARTICIPANT_LEFT": "jaas_participant_left.json",
    "ROOM_CREATED": "jaas_room_created.json",
    "ROOM_DESTROYED": "jaas_room_destroyed.json",
    "RECORDING_UPLOADED": "jaas_recording_uploaded.json",
}
PROSODY_SAMPLES = {
    "muc-occupant-joined": "prosody_occupant_joined.json",
    "muc-occupant-left": "prosody_occupant_left.json",
    "muc-room-created": "prosody_room_created.json",
    "muc-room-destroyed": "prosody_room_destroyed.json",
}
NOW = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())
BODY = raw(load("jaas_participant_joined.json"))


# --- Signature verification (pure) ------------------------------------------------------------


def test_it_matches_the_documented_test_vector():
    vector = load("jaas_signature_vector.json")
    body = vector["body"].encode()
    assert sign_jaas(vector["secret"], vector["t"], body) == vector["v1"]
    now = dt.datetime.fromtimestamp(vector["t"], tz=dt.UTC)
    verify_jaas_signature(vector["secret"], vector["header"], body, now)


def test_it_accepts_a_millisecond_timestamp():
    header = f"t={T * 1000},v1={sign_jaas(SECRET, T * 1000, BODY)}"
    verify_jaas_signature(SECRET, header, BODY, NOW)


def test_it_accepts_any_of_several_v1_signatures_and_ignores_other_schemes():
    good = sign_jaas(SECRET, T, BODY)
    verify_jaas_signature(SECRET, f"t={T},v0=abc,v1=AAAA,v1={good}", BODY, NOW)
    with pytest.raises(BadSignature):
        verify_jaas_signature(SECRET, f"t={T},v0={good}", BODY, NOW)


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_it_accepts_timestamps_at_the_five_minute_boundary(offset):
    t = T + offset
    verify_jaas_signature(SECRET, f"t={t},v1={sign_jaas(SECRET, t, BODY)}", BODY, NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_it_rejects_timestamps_past_the_boundary(offset):
    t = T + offset
    with pytest.raises(StaleTimestamp):
        verify_jaas_signature(SECRET, f"t={t},v1={sign_jaas(SECRET, t, BODY)}", BODY, NOW)


def test_it_rejects_stale_millisecond_timestamps():
    t = (T - 301) * 1000
    with pytest.raises(StaleTimestamp):
        verify_jaas_signature(SECRET, f"t={t},v1={sign_jaas(SECRET, t, BODY)}", BODY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"v1={sign_jaas(SECRET, T, BODY)}",  # no timestamp
        f"t={T}",  # no signature
        f"t=-{T},v1=x",
        f"t={T}.5,v1=x",
        f"t=１２３,v1={sign_jaas(SECRET, '１２３', BODY)}",  # non-ASCII digits
        f"t={T},t={T},v1={sign_jaas(SECRET, T, BODY)}",
        f"t={T},v1={sign_jaas('whsec_wrong', T, BODY)}",
        f"t={T},v1={sign_jaas(SECRET, T, BODY + b' ')}",
        f"t={T + 1},v1={sign_jaas(SECRET, T, BODY)}",
        f"t={T},v1={sign_jaas(SECRET, T, BODY)[:-1]}",
        f"t={T},v1=é{sign_jaas(SECRET, T, BODY)}",
    ],
)
def test_it_rejects_bad_signatures(header):
    with pytest.raises(BadSignature):
        verify_jaas_signature(SECRET, header, BODY, NOW)


def test_a_header_with_lone_surrogates_is_refused_not_a_crash():
    good = sign_jaas(SECRET, T, BODY)
    with pytest.raises(BadSignature):
        verify_jaas_signature(SECRET, f"t={T},v1=\udd00{good[1:]}", BODY, NOW)
    with pytest.raises(BadToken):
        verify_bearer_token(TOKEN, "Bearer \udd00")


def test_the_whole_whsec_string_is_the_key():
    header = f"t={T},v1={sign_jaas(SECRET.removeprefix('whsec_'), T, BODY)}"
    with pytest.raises(BadSignature):
        verify_jaas_signature(SECRET, header, BODY, NOW)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer wrong"]
)
def test_it_rejects_bad_bearer_tokens(header):
    with pytest.raises(BadToken):
        verify_bearer_token(TOKEN, header)


def test_it_accepts_the_bearer_token_case_insensitively():
    verify_bearer_token(TOKEN, f"bearer {TOKEN}")


# --- Parsing (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(JAAS_SAMPLES))
def test_it_parses_every_jaas_sample(event_type):
    body = load(JAAS_SAMPLES[event_type])
    parsed = parse_jaas_event(raw(body))
    assert parsed["event_type"] == event_type
    assert parsed["room_name"] == "lecture-2026-03-law-basics"
    assert parsed["dedupe_key"] == f"jaas:{body['idempotencyKey']}"
    assert parsed["occurred_at"] == dt.datetime.fromtimestamp(body["timestamp"] / 1000, dt.UTC)
    assert parsed["payload"] == body


def test_it_takes_the_user_id_never_the_name():
    parsed = parse_jaas_event(raw(load("jaas_participant_left.json")))
    assert parsed["user_id"] == "u-7f3c9a"
    assert parsed["payload"]["data"]["disconnectReason"] == "left"


@pytest.mark.parametrize("event_type", sorted(PROSODY_SAMPLES))
def test_it_parses_every_prosody_sample(event_type):
    body = load(PROSODY_SAMPLES[event_type])
    parsed = parse_prosody_event(raw(body))
    assert parsed["event_type"] == event_type
    assert parsed["room_name"] == "lecture-2026-03-law-basics"
    assert parsed["user_id"] == ("u-7f3c9a" if "occupant" in event_type else "")
    assert parsed["dedupe_key"] == prosody_dedupe_key(body)


def test_prosody_dedupe_key_ignores_key_order_and_spacing():
    body = load("prosody_occupant_joined.json")
    reordered = dict(reversed(list(body.items())))
    spaced = json.dumps(reordered, indent=4).encode()
    assert parse_prosody_event(spaced)["dedupe_key"] == parse_prosody_event(raw(body))["dedupe_key"]


JAAS_BAD_BODIES = [
    b"",
    b"{",
    b"\xff\xfe",
    b"[]",
    b'"text"',
    b"null",
    b'{"eventType": "PARTICIPANT_JOINED"}',
    raw({**load("jaas_participant_joined.json"), "eventType": "SOMETHING_ELSE"}),
    raw({**load("jaas_participant_joined.json"), "eventType": "muc-occupant-joined"}),
    raw({**load("jaas_participant_joined.json"), "idempotencyKey": ""}),
    raw({**load("jaas_participant_joined.json"), "idempotencyKey": "k" * 300}),
    raw({**load("jaas_participant_joined.json"), "timestamp": "soon"}),
    raw({**load("jaas_participant_joined.json"), "timestamp": 10**30}),
    raw({**load("jaas_participant_joined.json"), "fqn": "app/"}),
    raw({**load("jaas_participant_joined.json"), "data": []}),
    raw({**load("jaas_participant_joined.json"), "data": {"id": ["x"]}}),
    BODY.replace(b"1772503200000", b"NaN"),
    BODY.replace(b'"learner-7"', b'"\\u0000"'),
    BODY.replace(b'"learner-7"', b'"\\ud800"'),
    b"[" * 100_000 + b"]" * 100_000,
]


@pytest.mark.parametrize("body", JAAS_BAD_BODIES, ids=range(len(JAAS_BAD_BODIES)))
def test_it_rejects_malformed_jaas_bodies(body):
    with pytest.raises(BadPayload):
        parse_jaas_event(body)


@pytest.mark.parametrize(
    "body",
    [
        {**load("prosody_occupant_joined.json"), "event_name": "muc-occupant-pre-join"},
        {**load("prosody_occupant_joined.json"), "occupant": None},
        {**load("prosody_occupant_joined.json"), "room_name": ""},
        {k: v for k, v in load("prosody_room_created.json").items() if k != "created_at"},
        {**load("prosody_occupant_left.json"), "occupant": {"id": "u-1", "joined_at": 1}},
    ],
)
def test_it_rejects_malformed_prosody_bodies(body):
    with pytest.raises(BadPayload):
        parse_prosody_event(raw(body))


# --- Endpoints --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", sorted(JAAS_SAMPLES))
def test_jaas_endpoint_stores_each_event_type(client, hooks_configured, event_type):
    body = load(JAAS_SAMPLES[event_type])
    response = post_jaas(client, raw(body))
    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    event = PresenceEvent.objects.get()
    assert event.provider == Provider.JAAS
    assert event.event_type == event_type
    assert event.room_name == "lecture-2026-03-law-basics"
    assert event.payload == body
    assert event.received_at is not None and event.occurred_at.tzinfo is not None


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", sorted(PROSODY_SAMPLES))
def test_prosody_endpoint_stores_each_event_type(client, hooks_configured, event_type):
    body = load(PROSODY_SAMPLES[event_type])
    response = post_prosody(client, raw(body))
    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    event = PresenceEvent.objects.get()
    assert (event.provider, event.event_type) == (Provider.PROSODY, event_type)


@pytest.mark.django_db
def test_a_replay_is_2xx_and_stored_once(client, hooks_configured):
    body = raw(load("jaas_participant_joined.json"))
    assert post_jaas(client, body).json() == {"status": "stored"}
    replay = post_jaas(client, body)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    pbody = load("prosody_occupant_left.json")
    assert post_prosody(client, raw(pbody)).json() == {"status": "stored"}
    again = post_prosody(client, json.dumps(pbody, indent=1).encode())
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert PresenceEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_new_event_reaches_the_extension_point_after_commit_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    monkeypatch.setattr("live.services.on_presence_event", seen.append)
    parsed = parse_jaas_event(raw(load("jaas_participant_joined.json")))
    with django_capture_on_commit_callbacks(execute=True):
        result = do_store_presence_event(parsed)
        assert seen == []
    assert seen == [result.event]
    with django_capture_on_commit_callbacks(execute=True):
        assert not do_store_presence_event(parsed).created
    assert seen == [result.event]


def _state():
    return PresenceEvent.objects.count(), AccessEvent.objects.count()


REJECTED_JAAS = [
    ("missing signature", lambda c: post_jaas(c, BODY, header=False), 400),
    ("garbled signature", lambda c: post_jaas(c, BODY, header="t=1,v1=%%%"), 400),
    ("wrong secret", lambda c: post_jaas(c, BODY, secret="whsec_wrong"), 400),
    ("stale", lambda c: post_jaas(c, BODY, t=int(time.time()) - 301), 400),
    ("future", lambda c: post_jaas(c, BODY, t=int(time.time()) + 400), 400),
    ("other body", lambda c: post_jaas(c, BODY, header=_header_for(BODY + b" ")), 400),
    ("unknown type", lambda c: post_jaas(c, BODY.replace(b"PARTICIPANT_JOINED", b"X")), 400),
    ("malformed JSON", lambda c: post_jaas(c, b"{not json"), 400),
    ("non-object JSON", lambda c: post_jaas(c, b"[1, 2]"), 400),
    ("too large", lambda c: post_jaas(c, b" " * (1024 * 1024) + b"{}"), 413),
    ("GET", lambda c: c.get(JAAS_URL), 405),
    ("PUT", lambda c: c.put(JAAS_URL, BODY, content_type="application/json"), 405),
]


def _header_for(body: bytes) -> str:
    return f"t={int(time.time())},v1={sign_jaas(SECRET, int(time.time()), body)}"


REJECTED_PROSODY = [
    ("no token", lambda c: post_prosody(c, raw(load("prosody_room_created.json")), **NO_AUTH), 401),
    (
        "wrong token",
        lambda c: post_prosody(c, raw(load("prosody_room_created.json")), authorization="Bearer x"),
        401,
    ),
    ("unknown type", lambda c: post_prosody(c, b'{"event_name": "x", "room_name": "r"}'), 400),
    ("malformed JSON", lambda c: post_prosody(c, b"\x00\x01"), 400),
    ("non-object JSON", lambda c: post_prosody(c, b"42"), 400),
    ("too large", lambda c: post_prosody(c, b"[" + b"1," * 600_000 + b"1]"), 413),
    ("GET", lambda c: c.get(PROSODY_URL), 405),
]
NO_AUTH = {"authorization": None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "send, status",
    [(s, c) for _, s, c in REJECTED_JAAS + REJECTED_PROSODY],
    ids=[
        f"{n} ({'jaas' if i < len(REJECTED_JAAS) else 'prosody'})"
        for i, (n, _, _) in enumerate(REJECTED_JAAS + REJECTED_PROSODY)
    ],
)
def test_bad_requests_are_refused_and_change_nothing(hooks_configured, send, status):
    client = Client(raise_request_exception=False)
    before = _state()
    response = send(client)
    assert response.status_code == status
    assert _state() == before


@pytest.mark.django_db
def test_a_body_over_one_megabyte_is_refused_by_its_declared_length(hooks_configured):
    client = Client(raise_request_exception=False)
    response = client.post(
        JAAS_URL, b"{}", content_type="application/json", CONTENT_LENGTH=str(2 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert PresenceEvent.objects.count() == 0


@pytest.mark.django_db
def test_not_configured_answers_503_and_stores_nothing(client, settings):
    settings.JAAS_WEBHOOK_SECRET = ""
    settings.PROSODY_WEBHOOK_TOKEN = ""
    response = post_jaas(client, BODY)
    assert response.status_code == 503
    assert response.json()["reason"] == "not configured"
    assert post_prosody(client, raw(load("prosody_room_created.json"))).status_code == 503
    assert PresenceEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_hooks_need_no_csrf_token(hooks_configured):
    client = Client(enforce_csrf_checks=True)
    assert post_jaas(client, BODY).status_code == 200


UNKNOWN = [
    ("jaas unknown room", "jaas_participant_joined.json", {"fqn": "vpaas-magic-cookie-x/nope"}),
    ("jaas room event, unknown room", "jaas_room_created.json", {"fqn": "app/no-such-room"}),
    ("jaas unknown user", "jaas_participant_joined.json", {"data": {"id": "nobody-42"}}),
    ("jaas participant without id", "jaas_participant_left.json", {"data": {"name": "x"}}),
    ("prosody unknown room", "prosody_occupant_joined.json", {"room_name": "no-such-room"}),
    (
        "prosody unknown user",
        "prosody_occupant_left.json",
        {"occupant": {"id": "nobody-42", "joined_at": 1772503200, "left_at": 1772505000}},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name, sample, change", UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_rooms_and_users_are_refused_and_change_nothing(
    client, hooks_configured, name, sample, change
):
    body = {**load(sample), **change}
    before = _state()
    if sample.startswith("jaas"):
        response = post_jaas(client, raw(body))
    else:
        response = post_prosody(client, raw(body))
    assert response.status_code == 422, name
    assert response.json()["status"] == "rejected"
    assert _state() == before


@pytest.mark.django_db
def test_the_lecturer_and_the_audience_are_known_participants(client, hooks_configured, org):
    body = load("jaas_participant_joined.json")
    body["data"]["id"] = participant_id(org.lecturer.pk)
    body["idempotencyKey"] = "lecturer-join"
    assert post_jaas(client, raw(body)).json() == {"status": "stored"}
    body["data"]["id"] = participant_id(org.other_learner.pk)  # west office: not invited
    body["idempotencyKey"] = "outsider-join"
    assert post_jaas(client, raw(body)).status_code == 422


# --- Append-only ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_presence_events_are_append_only(client, hooks_configured):
    post_jaas(client, BODY)
    event = PresenceEvent.objects.get()
    event.room_name = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        PresenceEvent.objects.filter(pk=event.pk).update(room_name="changed")
    with pytest.raises(AppendOnlyError):
        PresenceEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.room_name == "lecture-2026-03-law-basics"
    assert PresenceEvent.objects.for_room(event.room_name).for_user("u-7f3c9a").count() == 1
    assert event.event_type == EventType.PARTICIPANT_JOINED


# --- replay_events ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_replay_events_posts_through_the_endpoints(hooks_configured):
    out, err = StringIO(), StringIO()
    call_command("replay_events", str(FIXTURES / "replay.jsonl"), stdout=out, stderr=err)
    assert out.getvalue().strip() == "9 stored, 1 duplicate, 1 rejected"
    assert PresenceEvent.objects.count() == 9
    out = StringIO()
    call_command("replay_events", str(FIXTURES / "replay.jsonl"), stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "0 stored, 10 duplicate, 1 rejected"


@pytest.mark.django_db
def test_replay_events_without_secrets_stores_nothing(settings, tmp_path):
    settings.JAAS_WEBHOOK_SECRET = ""
    settings.PROSODY_WEBHOOK_TOKEN = ""
    out = StringIO()
    call_command("replay_events", str(FIXTURES / "replay.jsonl"), stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "0 stored, 0 duplicate, 11 rejected"
    assert PresenceEvent.objects.count() == 0
