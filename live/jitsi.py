"""Jitsi client: participant ids, room names, join tokens, embed settings, reconciliation.

Plain ``requests`` and PyJWT; no third-party Jitsi package. Two kinds of server:

- **Self-hosted** (``JITSI_APP_ID`` + ``JITSI_APP_SECRET``): prosody's token authentication
  (``mod_auth_token``) checks an HS256 token signed with the app secret. Claims: ``iss`` (the
  app id; prosody's ``asap_accepted_issuers``, docker-jitsi-meet's ``JWT_ACCEPTED_ISSUERS``,
  must list it, and by default lists only the app id), ``aud`` (``JITSI_TOKEN_AUDIENCE``,
  default ``jitsi``; prosody's ``asap_accepted_audiences`` / ``JWT_ACCEPTED_AUDIENCES``
  accepts any by default), ``sub`` (the XMPP domain), ``room`` (lowercased), numeric
  ``nbf`` (30 s early, for clock skew) and ``exp``, and ``context.user`` holding only strings.
- **JaaS** (``JAAS_APP_ID`` + ``JAAS_KEY_ID`` + ``JAAS_PRIVATE_KEY``): 8x8's hosted Jitsi
  checks an RS256 token with header ``kid: <app id>/<key id>`` and claims ``iss: chat``,
  ``aud: jitsi``, ``sub: <app id>``, ``room``, ``nbf``, ``exp``, ``context.user`` (with
  ``moderator`` as the string ``"true"``/``"false"``) and ``context.features``.

In both, the lecturer is a moderator with recording; attendees are not moderators and have
every feature switched off (``"false"``), so they cannot record, stream or dial out.
``context.user.id`` is ``participant_id(user.pk)``: an opaque HMAC, never a name or case number,
because the browser and Jitsi's logs can read the token. The webhooks (``live.webhooks``) carry
it back as ``data.id`` (JaaS) or ``occupant.id`` (prosody ``event_sync``). On self-hosted
servers the token also sets ``context.user.email`` to ``<participant id>@participant.invalid``:
prosody's ``mod_muc_size`` ``GET /room`` lists occupants only by jid, display name and email,
so this is how ``reconcile_room`` recognises them (``embed_settings`` turns off third-party
requests, so Jitsi never looks that address up on Gravatar).

With neither configured (the development default), Jitsi runs without tokens on a local
server (``JITSI_DOMAIN=localhost:8443``, docker-jitsi-meet's default port); events then carry
no user id and give no attendance, which is fine for trying the lecture page on a laptop.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import logging
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.crypto import salted_hmac

from lib.env import env_int, env_str

logger = logging.getLogger(__name__)

JAAS_DOMAIN = "8x8.vc"
DEVELOPMENT_DOMAIN = "localhost:8443"
# JaaS wants exactly this audience; a self-hosted server's is JITSI_TOKEN_AUDIENCE (default it)
AUDIENCE = "jitsi"
NOT_BEFORE_SKEW = dt.timedelta(seconds=30)
PARTICIPANT_EMAIL_DOMAIN = "participant.invalid"
# connect, read (seconds): the reconciliation runs at the end of a lecture, never in a request
RECONCILE_TIMEOUT = (3.05, 5)
MAX_DISPLAY_NAME = 100
MIN_SECRET_LENGTH = 32

ROOM_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,199}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,200}")
# one entry of prosody's asap_accepted_audiences (docker-jitsi-meet splits its list at commas)
_AUDIENCE_RE = re.compile(r"[^\s,]{1,200}")
_PARTICIPANT_RE = re.compile(r"[a-z2-7]{32}")
_FEATURES = ("livestreaming", "recording", "transcription", "outbound-call", "sip-outbound-call")

Mode = Literal["jaas", "selfhosted"]


class JitsiNotConfigured(ImproperlyConfigured):
    """No token can be made: neither JaaS nor a self-hosted app secret is configured."""


# --- Identifiers ------------------------------------------------------------------------------


def participant_id(user_pk: int) -> str:
    """The opaque id a user's Jitsi tokens carry as ``context.user.id``.

    Stable for a given ``SECRET_KEY`` (HMAC-SHA256 of the primary key under a key derived from
    it), unguessable without it, 32 lowercase base32 characters. It reveals nothing about the
    person. Rotating ``SECRET_KEY`` changes every id, so store the id a lecture used (the
    lecture's audience rows do) rather than recomputing it for past lectures.
    """
    if isinstance(user_pk, bool) or not isinstance(user_pk, int):
        raise TypeError("user_pk must be an int")
    digest = salted_hmac("live.jitsi.participant_id", str(user_pk), algorithm="sha256").digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def participant_email(pid: str) -> str:
    """The placeholder address a self-hosted token carries, for ``reconcile_room``."""
    return f"{pid}@{PARTICIPANT_EMAIL_DOMAIN}"


def participant_from_email(email: Any) -> str:
    """The participant id inside a ``participant_email`` address, or ``""``."""
    if not isinstance(email, str):
        return ""
    local, sep, domain = email.strip().lower().partition("@")
    if sep and domain == PARTICIPANT_EMAIL_DOMAIN and _PARTICIPANT_RE.fullmatch(local):
        return local
    return ""


def room_name() -> str:
    """A new unguessable room name: 96 random bits, lowercase (Jitsi lowercases rooms)."""
    return "lecture-" + secrets.token_hex(12)


def _check_room(room: str) -> str:
    if not isinstance(room, str):
        raise ValueError("room must be a string")
    lowered = room.lower()
    if not ROOM_RE.fullmatch(lowered):
        raise ValueError("room must be 1-200 letters, digits, '-' or '_'")
    return lowered


# --- Settings ---------------------------------------------------------------------------------


def _host(name: str, value: str) -> str:
    """``host`` or ``host:port``, lowercased; no scheme, path or credentials."""
    value = value.strip().lower()
    host, sep, port = value.partition(":")
    if (
        len(host) > 253
        or not _HOST_RE.fullmatch(host)
        or (sep and (not _PORT_RE.fullmatch(port) or not 0 < int(port) < 65536))
    ):
        raise ImproperlyConfigured(
            f"{name} must be a host name with an optional port, such as meet.example.org or "
            f"localhost:8443 (no https://, no path), got {value!r}"
        )
    return value


def _identifier(name: str, value: str) -> str:
    value = value.strip()
    if not _ID_RE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be 1-200 letters, digits, '.', '_' or '-', got {value!r}"
        )
    return value


def _http_url(name: str, value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a bad port: {value!r}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an http:// or https:// URL without a query, got {value!r}"
        )
    return value


def _private_key_pem(name: str, value: str) -> str:
    """PEM text of an RSA private key given as PEM (``\\n`` escapes allowed) or a file path."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        pem = value.replace("\\n", "\n")
    else:
        try:
            pem = Path(value).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"{name} must be a PEM private key or the path of one; cannot read {value!r} "
                f"({exc.__class__.__name__})"
            ) from None
    try:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ImproperlyConfigured(f"{name} is not an unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ImproperlyConfigured(f"{name} must be an RSA key of at least 2048 bits (JaaS)")
    return pem


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read and check the Jitsi variables (``config/settings.py`` calls this).

    Raises ``ImproperlyConfigured`` naming the variable when a value is malformed, when only
    part of a configuration is given, or when both JaaS and a self-hosted secret are set.
    """
    jaas = {
        "JAAS_APP_ID": env_str("JAAS_APP_ID", "", environ).strip(),
        "JAAS_KEY_ID": env_str("JAAS_KEY_ID", "", environ).strip(),
        "JAAS_PRIVATE_KEY": env_str("JAAS_PRIVATE_KEY", "", environ).strip(),
    }
    own = {
        "JITSI_APP_ID": env_str("JITSI_APP_ID", "", environ).strip(),
        "JITSI_APP_SECRET": env_str("JITSI_APP_SECRET", "", environ),
    }
    for group in (jaas, own):
        given = [k for k, v in group.items() if v]
        if given and len(given) != len(group):
            missing = ", ".join(k for k, v in group.items() if not v)
            raise ImproperlyConfigured(f"{missing} must be set together with {', '.join(given)}")
    if jaas["JAAS_APP_ID"] and own["JITSI_APP_ID"]:
        raise ImproperlyConfigured(
            "JAAS_APP_ID and JITSI_APP_ID are both set: configure JaaS or a self-hosted server"
        )
    if jaas["JAAS_APP_ID"]:
        jaas["JAAS_APP_ID"] = _identifier("JAAS_APP_ID", jaas["JAAS_APP_ID"])
        key_id = jaas["JAAS_KEY_ID"]
        # the JaaS console shows the whole kid "<app id>/<key id>"; accept either form
        if key_id.startswith(jaas["JAAS_APP_ID"] + "/"):
            key_id = key_id[len(jaas["JAAS_APP_ID"]) + 1 :]
        jaas["JAAS_KEY_ID"] = _identifier("JAAS_KEY_ID", key_id)
        jaas["JAAS_PRIVATE_KEY"] = _private_key_pem("JAAS_PRIVATE_KEY", jaas["JAAS_PRIVATE_KEY"])
    if own["JITSI_APP_ID"]:
        own["JITSI_APP_ID"] = _identifier("JITSI_APP_ID", own["JITSI_APP_ID"])
        if len(own["JITSI_APP_SECRET"]) < MIN_SECRET_LENGTH:
            raise ImproperlyConfigured(
                f"JITSI_APP_SECRET must be at least {MIN_SECRET_LENGTH} characters"
            )
    default_domain = JAAS_DOMAIN if jaas["JAAS_APP_ID"] else DEVELOPMENT_DOMAIN
    domain = _host("JITSI_DOMAIN", env_str("JITSI_DOMAIN", default_domain, environ))
    xmpp = env_str("JITSI_XMPP_DOMAIN", "", environ).strip()
    xmpp_domain = _host("JITSI_XMPP_DOMAIN", xmpp) if xmpp else domain.partition(":")[0]
    if ":" in xmpp_domain:
        raise ImproperlyConfigured(f"JITSI_XMPP_DOMAIN must not have a port, got {xmpp!r}")
    muc_size = env_str("JITSI_MUC_SIZE_URL", "", environ).strip()
    audience = env_str("JITSI_TOKEN_AUDIENCE", "", environ).strip() or AUDIENCE
    if not _AUDIENCE_RE.fullmatch(audience):
        raise ImproperlyConfigured(
            "JITSI_TOKEN_AUDIENCE must be 1-200 characters without spaces or commas (one of "
            f"prosody's asap_accepted_audiences), got {audience!r}"
        )
    if jaas["JAAS_APP_ID"] and audience != AUDIENCE:
        raise ImproperlyConfigured(
            f"JITSI_TOKEN_AUDIENCE is for a self-hosted server; JaaS tokens must say "
            f"aud={AUDIENCE!r}, got {audience!r}"
        )
    return {
        "JITSI_DOMAIN": domain,
        "JITSI_XMPP_DOMAIN": xmpp_domain,
        **own,
        **jaas,
        "JITSI_MUC_SIZE_URL": _http_url("JITSI_MUC_SIZE_URL", muc_size) if muc_size else "",
        "JITSI_TOKEN_TTL_MINUTES": env_int("JITSI_TOKEN_TTL_MINUTES", 240, environ, minimum=5),
        "JITSI_TOKEN_AUDIENCE": audience,
    }


def token_mode() -> Mode | None:
    """Which kind of token the settings call for, or None (a token-less server)."""
    if getattr(settings, "JAAS_APP_ID", ""):
        return "jaas"
    if getattr(settings, "JITSI_APP_ID", "") and getattr(settings, "JITSI_APP_SECRET", ""):
        return "selfhosted"
    return None


@functools.lru_cache(maxsize=4)
def _load_private_key(pem: str) -> RSAPrivateKey:
    key = load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ImproperlyConfigured("JAAS_PRIVATE_KEY must be an RSA key")
    return key


# --- Tokens -----------------------------------------------------------------------------------


def _features(moderator: bool) -> dict[str, str]:
    """JaaS/Jitsi feature flags as strings: the lecturer may record, nothing else is on."""
    return {name: "true" if moderator and name == "recording" else "false" for name in _FEATURES}


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ValueError(f"{name} must be an aware datetime")
    return value


def make_token(
    *,
    room: str,
    user_pk: int,
    display_name: str,
    moderator: bool,
    now: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
) -> str:
    """A signed join token for ``room``; JaaS (RS256) or self-hosted (HS256) from settings.

    Valid from 30 s before ``now`` until ``valid_until`` (default ``now`` +
    ``JITSI_TOKEN_TTL_MINUTES``); pass the lecture's end plus a margin so that a reconnect
    late in the lecture is still accepted. Raises ``JitsiNotConfigured`` when neither server
    kind is configured and ``ValueError`` for a malformed room, name or time.
    """
    mode = token_mode()
    if mode is None:
        raise JitsiNotConfigured(
            "No Jitsi tokens: set JAAS_APP_ID/JAAS_KEY_ID/JAAS_PRIVATE_KEY or "
            "JITSI_APP_ID/JITSI_APP_SECRET"
        )
    lowered = _check_room(room)
    if not isinstance(display_name, str):
        raise ValueError("display_name must be a string")
    now = _aware(now or timezone.now(), "now")
    if valid_until is None:
        valid_until = now + dt.timedelta(minutes=settings.JITSI_TOKEN_TTL_MINUTES)
    valid_until = _aware(valid_until, "valid_until")
    if valid_until <= now:
        raise ValueError("valid_until must be after now")
    pid = participant_id(user_pk)
    user = {
        "id": pid,
        "name": display_name.strip()[:MAX_DISPLAY_NAME],
        "moderator": "true" if moderator else "false",
    }
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "room": lowered,
        "nbf": int((now - NOT_BEFORE_SKEW).timestamp()),
        "exp": int(valid_until.timestamp()),
        "context": {"user": user, "features": _features(moderator)},
    }
    if mode == "jaas":
        app_id = settings.JAAS_APP_ID
        claims.update(iss="chat", sub=app_id)
        return jwt.encode(
            claims,
            _load_private_key(settings.JAAS_PRIVATE_KEY),
            algorithm="RS256",
            headers={"kid": f"{app_id}/{settings.JAAS_KEY_ID}"},
        )
    # prosody's token_affiliation reads "affiliation"; mod_muc_size only shows the email
    user["affiliation"] = "owner" if moderator else "member"
    user["email"] = participant_email(pid)
    claims.update(
        iss=settings.JITSI_APP_ID,
        aud=settings.JITSI_TOKEN_AUDIENCE,
        sub=settings.JITSI_XMPP_DOMAIN,
    )
    return jwt.encode(claims, settings.JITSI_APP_SECRET, algorithm="HS256")


def script_url() -> str:
    """Where Jitsi's IFrame API script comes from: the video server itself (JaaS: the app's
    own path), never a third-party CDN. Its origin is in the site's CSP."""
    domain = settings.JITSI_DOMAIN
    if token_mode() == "jaas":
        return f"https://{domain}/{settings.JAAS_APP_ID}/external_api.js"
    return f"https://{domain}/external_api.js"


def embed_settings(
    *,
    room: str,
    user_pk: int,
    display_name: str,
    moderator: bool,
    now: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
) -> dict[str, Any]:
    """What the lecture page needs to start Jitsi's IFrame API.

    ``script_url`` is loaded with a ``<script>`` tag (its origin must be in the page's
    ``script-src`` and ``frame-src``; ``origin`` gives it), then
    ``new JitsiMeetExternalAPI(domain, {roomName: room, jwt, configOverwrite, userInfo})``.
    For JaaS the room is ``<app id>/<room>`` and the script is the app's own. ``jwt`` is None
    on a token-less development server.
    """
    lowered = _check_room(room)
    mode = token_mode()
    token = (
        make_token(
            room=lowered,
            user_pk=user_pk,
            display_name=display_name,
            moderator=moderator,
            now=now,
            valid_until=valid_until,
        )
        if mode
        else None
    )
    domain = settings.JITSI_DOMAIN
    room_path = f"{settings.JAAS_APP_ID}/{lowered}" if mode == "jaas" else lowered
    return {
        "domain": domain,
        "origin": f"https://{domain}",
        "room": room_path,
        "jwt": token,
        "script_url": script_url(),
        "user_info": {"displayName": display_name.strip()[:MAX_DISPLAY_NAME]},
        "config_overwrite": {
            # no Gravatar, no third-party analytics: the page is for supervised persons
            "disableThirdPartyRequests": True,
            "prejoinConfig": {"enabled": False},
            "startWithAudioMuted": not moderator,
            "startWithVideoMuted": not moderator,
        },
    }


# --- Reconciliation ---------------------------------------------------------------------------


def _service_token(room: str, now: dt.datetime) -> str:
    """A one-minute token for ``mod_muc_size`` when it verifies tokens (harmless otherwise)."""
    claims = {
        "iss": settings.JITSI_APP_ID,
        "aud": settings.JITSI_TOKEN_AUDIENCE,
        "sub": settings.JITSI_XMPP_DOMAIN,
        "room": room,
        "nbf": int((now - NOT_BEFORE_SKEW).timestamp()),
        "exp": int((now + dt.timedelta(minutes=1)).timestamp()),
        "context": {"user": {"id": "reconcile", "name": "reconcile", "moderator": "false"}},
    }
    return jwt.encode(claims, settings.JITSI_APP_SECRET, algorithm="HS256")


def reconcile_room(room: str) -> list[dict] | None:
    """Who is in ``room`` now, asked of a self-hosted server's ``mod_muc_size``.

    ``GET <JITSI_MUC_SIZE_URL>/room?room=<room>&domain=<JITSI_XMPP_DOMAIN>`` (with a short
    service token when a self-hosted secret is set). Returns one dict per occupant session:
    ``{"id": participant id or "", "display_name": str, "jid": str}`` (``id`` is recovered from
    the token's placeholder email; "" for anyone joined without one of our tokens). A room the
    server does not know (404) has nobody in it: ``[]``.

    Returns None, and logs, when reconciliation is not configured (JaaS has no such endpoint)
    or the answer cannot be trusted: network error, timeout, another status, a body that is not
    a JSON list. It never raises for those, so a caller can treat None as "no information".
    """
    base = getattr(settings, "JITSI_MUC_SIZE_URL", "")
    if not base:
        return None
    lowered = _check_room(room)
    params = {"room": lowered, "domain": settings.JITSI_XMPP_DOMAIN}
    if token_mode() == "selfhosted":
        params["token"] = _service_token(lowered, timezone.now())
    try:
        response = requests.get(
            f"{base}/room", params=params, timeout=RECONCILE_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        logger.warning("mod_muc_size unreachable for room %s: %s", lowered, exc.__class__.__name__)
        return None
    if response.status_code == 404:
        return []
    if response.status_code != 200:
        logger.warning("mod_muc_size answered %s for room %s", response.status_code, lowered)
        return None
    try:
        data = response.json()
    except ValueError:
        logger.warning("mod_muc_size sent a body that is not JSON for room %s", lowered)
        return None
    if not isinstance(data, list):
        logger.warning(
            "mod_muc_size sent %s, not a list, for room %s", type(data).__name__, lowered
        )
        return None
    occupants: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for item in data:
        if not isinstance(item, dict):
            continue
        jid = item.get("jid")
        jid = jid if isinstance(jid, str) else ""
        pid = participant_from_email(item.get("email"))
        if (pid, jid) in seen:
            continue
        seen.add((pid, jid))
        name = item.get("display_name")
        occupants.append(
            {"id": pid, "display_name": name if isinstance(name, str) else "", "jid": jid}
        )
    return occupants


# --- Is the server there? ---------------------------------------------------------------------

# connect, read (seconds): asked while an officer waits for a call to start
HEALTH_TIMEOUT = (2, 3)
HEALTH_ROOM = "health-probe"


def server_reachable() -> bool:
    """Whether the video server answers now: a short ``GET`` of ``mod_muc_size``'s ``/room``
    (any answer below 500, a 404 for the probe room included) when ``JITSI_MUC_SIZE_URL`` is
    set, else of the web front ``https://<JITSI_DOMAIN>/``. False on a network error, a
    timeout or a 5xx; never raises. A call on a server that does not answer cannot happen, so
    callers mark it "not possible" rather than missed."""
    base = getattr(settings, "JITSI_MUC_SIZE_URL", "")
    if base:
        url = f"{base}/room"
        params = {"room": HEALTH_ROOM, "domain": settings.JITSI_XMPP_DOMAIN}
    else:
        url, params = f"https://{settings.JITSI_DOMAIN}/", {}
    try:
        response = requests.get(url, params=params, timeout=HEALTH_TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        logger.warning("video server unreachable: %s", exc.__class__.__name__)
        return False
    if response.status_code >= 500:
        logger.warning("video server answered %s", response.status_code)
        return False
    return True
