"""Pure functions for Jitsi webhook intake: signature and token checks, body parsing.

Nothing here touches the database or the request; views call these, then
``live.services.check_presence_event`` (is the room a lecture's, the user one of its
participants? else ``UnknownRoom`` / ``UnknownParticipant``, 422) and
``live.services.do_store_presence_event``. Every rejection is a ``WebhookError`` carrying the
HTTP status to answer, so a view never needs to guess (and never answers 5xx).

JaaS (https://developer.8x8.com/jaas/docs/webhooks-signatures): the ``X-Jaas-Signature``
header is ``t=<timestamp>,v1=<signature>[,v1=…]``; each v1 is
``base64(HMAC-SHA256(secret, f"{t}.{raw body}"))`` keyed with the whole ``whsec_…`` string.
Only the v1 scheme counts (others are ignored to prevent downgrades). The documented ``t`` is
in seconds; a value in milliseconds is accepted too, told apart by magnitude.

Prosody (jitsi-contrib ``event_sync``): ``Authorization: Bearer <token>``; bodies carry
``event_name``, ``room_name``, ``room_jid`` and, for occupant events, ``occupant`` with
``id`` (from the JWT user context), ``occupant_jid``, ``joined_at`` and ``left_at``; room
events carry ``created_at`` / ``destroyed_at`` (Unix seconds). The plugin posts each event
to its own URL, ``<api_prefix>/events/room/created`` and so on (``live/urls.py``); a body
posted there must name that URL's event.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
from typing import Any, TypedDict

from live.models import (
    DEDUPE_KEY_MAX,
    JAAS_EVENT_TYPES,
    PROSODY_EVENT_TYPES,
    ROOM_NAME_MAX,
    USER_ID_MAX,
    EventType,
    Provider,
)

MAX_BODY_BYTES = 1024 * 1024
TOLERANCE = dt.timedelta(minutes=5)
# Anything above this is a millisecond timestamp (10**11 s is the year 5138).
_MILLISECONDS_FROM = 10**11
_MAX_HEADER = 2048
_MAX_SIGNATURES = 8


class WebhookError(ValueError):
    status = 400


class BadSignature(WebhookError):
    status = 400


class StaleTimestamp(WebhookError):
    status = 400


class BadToken(WebhookError):
    status = 401


class BadPayload(WebhookError):
    status = 400


class BodyTooLarge(WebhookError):
    status = 413


class UnknownRoom(WebhookError):
    """A well-formed, authentic event for a room that is no lecture's."""

    status = 422


class UnknownParticipant(WebhookError):
    """A participant event whose user id belongs to nobody expected in that lecture."""

    status = 422


class ParsedEvent(TypedDict):
    provider: str
    event_type: str
    room_name: str
    user_id: str
    occurred_at: dt.datetime
    payload: dict[str, Any]
    dedupe_key: str


# --- JaaS -----------------------------------------------------------------------------------


def sign_jaas(secret: str, timestamp: int | str, body: bytes) -> str:
    """The v1 signature JaaS would send for ``body`` at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def jaas_signature_header(secret: str, timestamp: int | str, body: bytes) -> str:
    return f"t={timestamp},v1={sign_jaas(secret, timestamp, body)}"


def _timestamp_to_datetime(value: int | float, *, milliseconds: bool) -> dt.datetime:
    seconds = value / 1000 if milliseconds else value
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload("timestamp out of range") from None


def verify_jaas_signature(secret: str, header: str | None, body: bytes, now: dt.datetime) -> None:
    """Raise ``BadSignature`` unless one v1 signature in ``header`` matches ``body`` under
    ``secret``; raise ``StaleTimestamp`` if the signed time is more than 5 minutes from
    ``now`` (either way; exactly 5 minutes is still accepted)."""
    if not secret:
        raise BadSignature("no secret")
    if not header or len(header) > _MAX_HEADER:
        raise BadSignature("missing or oversized signature header")
    timestamp: str | None = None
    signatures: list[bytes] = []
    for element in header.split(","):
        prefix, sep, value = element.strip().partition("=")
        if not sep:
            continue
        if prefix == "t":
            if timestamp is not None:
                raise BadSignature("more than one timestamp")
            timestamp = value
        elif prefix == "v1":
            signatures.append(value.encode("utf-8", "surrogatepass"))
    if (
        timestamp is None
        or not timestamp.isascii()
        or not timestamp.isdigit()
        or len(timestamp) > 16
    ):
        raise BadSignature("missing or malformed timestamp")
    if not signatures or len(signatures) > _MAX_SIGNATURES:
        raise BadSignature("missing v1 signature")
    expected = sign_jaas(secret, timestamp, body).encode("ascii")
    # compare every candidate, so timing does not tell which one matched
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise BadSignature("signature mismatch")
    value = int(timestamp)
    signed_at = _timestamp_to_datetime(value, milliseconds=value >= _MILLISECONDS_FROM)
    if abs(now - signed_at) > TOLERANCE:
        raise StaleTimestamp("timestamp outside the 5-minute tolerance")


# --- Shared parsing ---------------------------------------------------------------------------


def _reject_constant(name: str):
    raise BadPayload(f"{name} is not JSON")


def load_json_object(body: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object that every database can store (no NaN/Infinity, no NUL,
    no lone surrogates)."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge("body over 1 MB")
    try:
        text = body.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadPayload("malformed JSON") from None
    if not isinstance(data, dict):
        raise BadPayload("body is not a JSON object")
    try:
        canonical = canonical_json(data)
        canonical.encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        raise BadPayload("body cannot be stored") from None
    if "\\u0000" in canonical:
        raise BadPayload("NUL characters are not accepted")
    return data


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _text(data: dict[str, Any], key: str, *, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadPayload(f"{key} must be a string")
    value = str(value)
    if (required and not value) or len(value) > max_length:
        raise BadPayload(f"{key} is empty or too long")
    return value


def _number(data: dict[str, Any], key: str) -> int | float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadPayload(f"{key} must be a number")
    return value


# --- JaaS bodies ------------------------------------------------------------------------------


def parse_jaas_event(body: bytes) -> ParsedEvent:
    """Validate a JaaS webhook body (after its signature was verified)."""
    data = load_json_object(body)
    event_type = data.get("eventType")
    if event_type not in JAAS_EVENT_TYPES:
        raise BadPayload("unknown event type")
    key = _text(data, "idempotencyKey", max_length=DEDUPE_KEY_MAX - len("jaas:"))
    fqn = _text(data, "fqn", max_length=2 * ROOM_NAME_MAX)
    room_name = fqn.rsplit("/", 1)[-1]
    if not room_name or len(room_name) > ROOM_NAME_MAX:
        raise BadPayload("fqn does not name a room")
    details = data.get("data", {})
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise BadPayload("data must be an object")
    user_id = _text(details, "id", max_length=USER_ID_MAX, required=False)
    occurred_at = _timestamp_to_datetime(_number(data, "timestamp"), milliseconds=True)
    return ParsedEvent(
        provider=Provider.JAAS,
        event_type=EventType(event_type).value,
        room_name=room_name,
        user_id=user_id,
        occurred_at=occurred_at,
        payload=data,
        dedupe_key=f"jaas:{key}",
    )


# --- Prosody bodies ---------------------------------------------------------------------------

_PROSODY_TIME = {
    EventType.OCCUPANT_JOINED: ("occupant", "joined_at"),
    EventType.OCCUPANT_LEFT: ("occupant", "left_at"),
    EventType.MUC_ROOM_CREATED: (None, "created_at"),
    EventType.MUC_ROOM_DESTROYED: (None, "destroyed_at"),
}


def prosody_dedupe_key(data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON body: prosody sends no id, and its retries resend the
    same body, so equal bodies are the same event whatever their key order or spacing."""
    digest = hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
    return f"prosody:{digest}"


def verify_bearer_token(token: str, header: str | None) -> None:
    """Raise ``BadToken`` unless ``header`` is ``Bearer <token>`` (constant-time compare)."""
    if not token:
        raise BadToken("no token")
    if not header or len(header) > _MAX_HEADER:
        raise BadToken("missing bearer token")
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise BadToken("not a bearer token")
    given_bytes = given.strip().encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given_bytes, token.encode()):
        raise BadToken("wrong token")


def parse_prosody_event(body: bytes, expected: str | None = None) -> ParsedEvent:
    """Validate an ``event_sync`` body (after the bearer token was checked). ``expected`` is
    the event the URL it was posted to stands for (None on the single endpoint, which takes
    any); a body naming another event is refused."""
    data = load_json_object(body)
    event_name = data.get("event_name")
    if event_name not in PROSODY_EVENT_TYPES:
        raise BadPayload("unknown event type")
    event_type = EventType(event_name)
    if expected is not None and event_type != expected:
        raise BadPayload(f"event_name does not match this URL, which takes {expected}")
    room_name = _text(data, "room_name", max_length=ROOM_NAME_MAX)
    holder_key, time_key = _PROSODY_TIME[event_type]
    user_id = ""
    holder = data
    if holder_key is not None:
        holder = data.get(holder_key)
        if not isinstance(holder, dict):
            raise BadPayload("occupant must be an object")
        user_id = _text(holder, "id", max_length=USER_ID_MAX, required=False)
    occurred_at = _timestamp_to_datetime(_number(holder, time_key), milliseconds=False)
    return ParsedEvent(
        provider=Provider.PROSODY,
        event_type=event_type.value,
        room_name=room_name,
        user_id=user_id,
        occurred_at=occurred_at,
        payload=data,
        dedupe_key=prosody_dedupe_key(data),
    )
