"""``live.jitsi``: ids, tokens (decoded with PyJWT), embed settings, settings checks and
``mod_muc_size`` reconciliation (``requests`` replaced, plus one real local HTTP server)."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured

from live import jitsi
from tests.config.test_settings import run_django

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
SECRET = "self-hosted-app-secret-0123456789abcdef"
APP_ID = "vpaas-magic-cookie-1fc542a3e4414a44b2611668195e2bfe"
KEY_ID = "4f4910"
ROOM = "lecture-0123456789abcdef01234567"
BAD_PEM = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@pytest.fixture(scope="module")
def jaas_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def selfhosted(settings):
    settings.JAAS_APP_ID = ""
    settings.JITSI_APP_ID = "corrections"
    settings.JITSI_APP_SECRET = SECRET
    settings.JITSI_DOMAIN = "meet.example.org"
    settings.JITSI_XMPP_DOMAIN = "meet.jitsi"
    settings.JITSI_MUC_SIZE_URL = ""
    settings.JITSI_TOKEN_TTL_MINUTES = 240
    return settings


@pytest.fixture
def jaas_settings(settings, jaas_key):
    settings.JAAS_APP_ID = APP_ID
    settings.JAAS_KEY_ID = KEY_ID
    settings.JAAS_PRIVATE_KEY = pem(jaas_key)
    settings.JITSI_APP_ID = ""
    settings.JITSI_APP_SECRET = ""
    settings.JITSI_DOMAIN = "8x8.vc"
    settings.JITSI_TOKEN_TTL_MINUTES = 240
    return settings


@pytest.fixture
def tokenless(settings):
    settings.JAAS_APP_ID = ""
    settings.JITSI_APP_ID = ""
    settings.JITSI_APP_SECRET = ""
    settings.JITSI_DOMAIN = "localhost:8443"
    return settings


def decode_hs256(token: str) -> dict:
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_exp": False, "verify_nbf": False},
    )


# --- Identifiers ------------------------------------------------------------------------------


def test_participant_ids_are_opaque_stable_and_short():
    first = jitsi.participant_id(7)
    assert first == jitsi.participant_id(7)
    assert re.fullmatch(r"[a-z2-7]{32}", first)
    assert len({jitsi.participant_id(pk) for pk in range(1, 500)}) == 499


def test_participant_ids_depend_on_the_secret_key(settings):
    before = jitsi.participant_id(7)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert jitsi.participant_id(7) != before


@pytest.mark.parametrize("pk", ["7", 7.0, True, None])
def test_participant_id_needs_an_int(pk):
    with pytest.raises(TypeError):
        jitsi.participant_id(pk)


def test_room_names_are_unguessable_and_lowercase():
    names = {jitsi.room_name() for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"lecture-[0-9a-f]{24}", name) for name in names)


def test_participant_email_round_trips():
    pid = jitsi.participant_id(3)
    assert jitsi.participant_from_email(jitsi.participant_email(pid)) == pid
    assert jitsi.participant_from_email(jitsi.participant_email(pid).upper()) == pid
    for other in ["", None, 3, f"{pid}@example.org", "x@participant.invalid", pid]:
        assert jitsi.participant_from_email(other) == ""


# --- Self-hosted tokens -------------------------------------------------------------------------


def test_a_self_hosted_attendee_token_has_exactly_the_documented_claims(selfhosted):
    token = jitsi.make_token(
        room="Lecture-ABC", user_pk=42, display_name=" 学员 ", moderator=False, now=NOW
    )
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = decode_hs256(token)
    pid = jitsi.participant_id(42)
    assert claims == {
        "iss": "corrections",
        "aud": "jitsi",
        "sub": "meet.jitsi",
        "room": "lecture-abc",
        "nbf": int(NOW.timestamp()) - 30,
        "exp": int((NOW + timedelta(minutes=240)).timestamp()),
        "context": {
            "user": {
                "id": pid,
                "name": "学员",
                "moderator": "false",
                "affiliation": "member",
                "email": f"{pid}@participant.invalid",
            },
            "features": {
                "livestreaming": "false",
                "recording": "false",
                "transcription": "false",
                "outbound-call": "false",
                "sip-outbound-call": "false",
            },
        },
    }
    assert all(isinstance(v, str) for v in claims["context"]["user"].values())
    assert isinstance(claims["nbf"], int) and isinstance(claims["exp"], int)


def test_the_lecturer_is_a_moderator_who_may_record(selfhosted):
    token = jitsi.make_token(room=ROOM, user_pk=1, display_name="检察官", moderator=True, now=NOW)
    context = decode_hs256(token)["context"]
    assert context["user"]["moderator"] == "true"
    assert context["user"]["affiliation"] == "owner"
    assert context["features"]["recording"] == "true"
    assert {k for k, v in context["features"].items() if v == "true"} == {"recording"}


def test_a_self_hosted_token_verifies_now_and_not_with_another_secret(selfhosted):
    token = jitsi.make_token(room=ROOM, user_pk=1, display_name="x", moderator=False)
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi")["room"] == ROOM
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET + "x", algorithms=["HS256"], audience="jitsi")


def test_the_token_never_carries_the_pk_or_name_as_id(selfhosted):
    token = jitsi.make_token(room=ROOM, user_pk=123456, display_name="张三", moderator=False)
    user = decode_hs256(token)["context"]["user"]
    assert "123456" not in user["id"] and user["id"] != "张三"


def test_valid_until_sets_the_expiry(selfhosted):
    until = NOW + timedelta(hours=3)
    token = jitsi.make_token(
        room=ROOM, user_pk=1, display_name="x", moderator=False, now=NOW, valid_until=until
    )
    assert decode_hs256(token)["exp"] == int(until.timestamp())


def test_long_display_names_are_cut(selfhosted):
    token = jitsi.make_token(room=ROOM, user_pk=1, display_name="名" * 300, moderator=False)
    assert decode_hs256(token)["context"]["user"]["name"] == "名" * jitsi.MAX_DISPLAY_NAME


@pytest.mark.parametrize(
    "kwargs",
    [
        {"room": ""},
        {"room": "lecture/other"},
        {"room": "a" * 201},
        {"room": "lecture one"},
        {"room": None},
        {"display_name": None},
        {"now": datetime(2026, 3, 3, 2, 0)},  # noqa: DTZ001 - naive on purpose
        {"valid_until": NOW},
        {"valid_until": NOW - timedelta(seconds=1)},
    ],
)
def test_make_token_rejects_bad_arguments(selfhosted, kwargs):
    arguments = {
        "room": ROOM,
        "user_pk": 1,
        "display_name": "x",
        "moderator": False,
        "now": NOW,
        **kwargs,
    }
    with pytest.raises(ValueError):
        jitsi.make_token(**arguments)


def test_no_token_without_configuration(tokenless):
    assert jitsi.token_mode() is None
    with pytest.raises(jitsi.JitsiNotConfigured):
        jitsi.make_token(room=ROOM, user_pk=1, display_name="x", moderator=False)


# --- JaaS tokens ---------------------------------------------------------------------------------


def decode_rs256(token: str, key: rsa.RSAPrivateKey) -> dict:
    return jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        audience="jitsi",
        options={"verify_exp": False, "verify_nbf": False},
    )


def test_a_jaas_attendee_token_has_exactly_the_documented_claims(jaas_settings, jaas_key):
    token = jitsi.make_token(room=ROOM, user_pk=42, display_name="学员", moderator=False, now=NOW)
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": f"{APP_ID}/{KEY_ID}",
    }
    assert decode_rs256(token, jaas_key) == {
        "iss": "chat",
        "aud": "jitsi",
        "sub": APP_ID,
        "room": ROOM,
        "nbf": int(NOW.timestamp()) - 30,
        "exp": int((NOW + timedelta(minutes=240)).timestamp()),
        "context": {
            "user": {"id": jitsi.participant_id(42), "name": "学员", "moderator": "false"},
            "features": {
                "livestreaming": "false",
                "recording": "false",
                "transcription": "false",
                "outbound-call": "false",
                "sip-outbound-call": "false",
            },
        },
    }


def test_the_jaas_lecturer_may_record_and_nothing_more(jaas_settings, jaas_key):
    token = jitsi.make_token(room=ROOM, user_pk=1, display_name="律师", moderator=True, now=NOW)
    context = decode_rs256(token, jaas_key)["context"]
    assert context["user"]["moderator"] == "true"
    assert {k for k, v in context["features"].items() if v == "true"} == {"recording"}


def test_a_jaas_token_fails_with_another_key(jaas_settings):
    token = jitsi.make_token(room=ROOM, user_pk=1, display_name="x", moderator=False)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, rsa_key().public_key(), algorithms=["RS256"], audience="jitsi")


# --- Embedding ---------------------------------------------------------------------------------


def test_embed_settings_for_a_self_hosted_server(selfhosted):
    embed = jitsi.embed_settings(
        room=ROOM, user_pk=5, display_name="学员", moderator=False, now=NOW
    )
    assert embed["domain"] == "meet.example.org"
    assert embed["origin"] == "https://meet.example.org"
    assert embed["room"] == ROOM
    assert embed["script_url"] == "https://meet.example.org/external_api.js"
    assert decode_hs256(embed["jwt"])["context"]["user"]["id"] == jitsi.participant_id(5)
    assert embed["user_info"] == {"displayName": "学员"}
    assert embed["config_overwrite"]["disableThirdPartyRequests"] is True
    assert embed["config_overwrite"]["startWithAudioMuted"] is True
    json.dumps(embed)  # goes into the page with json_script


def test_embed_settings_for_jaas_prefix_the_app_id(jaas_settings, jaas_key):
    embed = jitsi.embed_settings(room=ROOM, user_pk=5, display_name="x", moderator=True, now=NOW)
    assert embed["domain"] == "8x8.vc"
    assert embed["room"] == f"{APP_ID}/{ROOM}"
    assert embed["script_url"] == f"https://8x8.vc/{APP_ID}/external_api.js"
    assert decode_rs256(embed["jwt"], jaas_key)["room"] == ROOM
    assert embed["config_overwrite"]["startWithAudioMuted"] is False


def test_embed_settings_without_tokens(tokenless):
    embed = jitsi.embed_settings(room="Lecture-X", user_pk=5, display_name="x", moderator=False)
    assert embed["jwt"] is None
    assert embed["room"] == "lecture-x"
    assert embed["script_url"] == "https://localhost:8443/external_api.js"


def test_the_jitsi_origin_is_allowed_by_the_content_security_policy():
    from django.conf import settings

    origin = f"https://{settings.JITSI_DOMAIN}"
    assert origin in settings.CSP_FRAME_SRC and origin in settings.CSP_SCRIPT_SRC


# --- Settings ----------------------------------------------------------------------------------


def test_the_development_defaults_need_no_network_service():
    values = jitsi.settings_from_env({})
    assert values["JITSI_DOMAIN"] == "localhost:8443"
    assert values["JITSI_XMPP_DOMAIN"] == "localhost"
    assert values["JITSI_APP_ID"] == values["JAAS_APP_ID"] == values["JITSI_MUC_SIZE_URL"] == ""
    assert values["JITSI_TOKEN_TTL_MINUTES"] == 240
    assert values["JITSI_TOKEN_AUDIENCE"] == "jitsi"


def test_a_self_hosted_configuration_is_read():
    values = jitsi.settings_from_env(
        {
            "JITSI_DOMAIN": "Meet.Example.org",
            "JITSI_APP_ID": "corrections",
            "JITSI_APP_SECRET": SECRET,
            "JITSI_MUC_SIZE_URL": "http://prosody:5280/",
            "JITSI_TOKEN_TTL_MINUTES": "300",
        }
    )
    assert values["JITSI_DOMAIN"] == "meet.example.org"
    assert values["JITSI_XMPP_DOMAIN"] == "meet.example.org"
    assert values["JITSI_MUC_SIZE_URL"] == "http://prosody:5280"
    assert values["JITSI_TOKEN_TTL_MINUTES"] == 300


def test_a_jaas_configuration_is_read_from_text_or_a_file(tmp_path, jaas_key):
    text = pem(jaas_key)
    env = {"JAAS_APP_ID": APP_ID, "JAAS_KEY_ID": f"{APP_ID}/{KEY_ID}"}
    values = jitsi.settings_from_env({**env, "JAAS_PRIVATE_KEY": text.replace("\n", "\\n")})
    assert values["JITSI_DOMAIN"] == "8x8.vc"
    assert values["JAAS_KEY_ID"] == KEY_ID  # the console's whole kid is accepted
    assert values["JAAS_PRIVATE_KEY"] == text
    path = tmp_path / "jaas.pem"
    path.write_text(text, encoding="ascii")
    assert jitsi.settings_from_env({**env, "JAAS_PRIVATE_KEY": str(path)})["JAAS_PRIVATE_KEY"] == (
        text
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"JITSI_DOMAIN": "https://meet.example.org"}, "JITSI_DOMAIN"),
        ({"JITSI_DOMAIN": "meet.example.org/path"}, "JITSI_DOMAIN"),
        ({"JITSI_DOMAIN": "meet.example.org:99999"}, "JITSI_DOMAIN"),
        ({"JITSI_DOMAIN": "meet.example.org:"}, "JITSI_DOMAIN"),
        ({"JITSI_DOMAIN": ""}, "JITSI_DOMAIN"),
        ({"JITSI_XMPP_DOMAIN": "meet.jitsi:5222"}, "JITSI_XMPP_DOMAIN"),
        ({"JITSI_APP_ID": "corrections"}, "JITSI_APP_SECRET"),
        ({"JITSI_APP_SECRET": SECRET}, "JITSI_APP_ID"),
        ({"JITSI_APP_ID": "corrections", "JITSI_APP_SECRET": "short"}, "JITSI_APP_SECRET"),
        ({"JITSI_APP_ID": "bad id", "JITSI_APP_SECRET": SECRET}, "JITSI_APP_ID"),
        ({"JAAS_APP_ID": APP_ID}, "JAAS_KEY_ID"),
        ({"JAAS_APP_ID": APP_ID, "JAAS_KEY_ID": KEY_ID}, "JAAS_PRIVATE_KEY"),
        (
            {"JAAS_APP_ID": APP_ID, "JAAS_KEY_ID": KEY_ID, "JAAS_PRIVATE_KEY": "/no/such/key.pem"},
            "JAAS_PRIVATE_KEY",
        ),
        (
            {
                "JAAS_APP_ID": APP_ID,
                "JAAS_KEY_ID": KEY_ID,
                "JAAS_PRIVATE_KEY": BAD_PEM,
            },
            "JAAS_PRIVATE_KEY",
        ),
        ({"JITSI_MUC_SIZE_URL": "ftp://prosody/"}, "JITSI_MUC_SIZE_URL"),
        ({"JITSI_MUC_SIZE_URL": "http://prosody:5280/room?x=1"}, "JITSI_MUC_SIZE_URL"),
        ({"JITSI_MUC_SIZE_URL": "http://prosody:http/"}, "JITSI_MUC_SIZE_URL"),
        ({"JITSI_TOKEN_TTL_MINUTES": "1"}, "JITSI_TOKEN_TTL_MINUTES"),
        ({"JITSI_TOKEN_TTL_MINUTES": "forever"}, "JITSI_TOKEN_TTL_MINUTES"),
        ({"JITSI_TOKEN_AUDIENCE": "jitsi,meet"}, "JITSI_TOKEN_AUDIENCE"),
        ({"JITSI_TOKEN_AUDIENCE": "my server"}, "JITSI_TOKEN_AUDIENCE"),
        ({"JITSI_TOKEN_AUDIENCE": "x" * 201}, "JITSI_TOKEN_AUDIENCE"),
    ],
)
def test_malformed_settings_name_the_variable(env, name):
    with pytest.raises(ImproperlyConfigured, match=name):
        jitsi.settings_from_env(env)


def test_the_token_audience_is_read_for_a_self_hosted_server():
    env = {"JITSI_APP_ID": "corrections", "JITSI_APP_SECRET": SECRET}
    assert jitsi.settings_from_env(env)["JITSI_TOKEN_AUDIENCE"] == "jitsi"
    env["JITSI_TOKEN_AUDIENCE"] = " meet.example.org "
    assert jitsi.settings_from_env(env)["JITSI_TOKEN_AUDIENCE"] == "meet.example.org"


def test_jaas_refuses_another_token_audience(jaas_key):
    env = {"JAAS_APP_ID": APP_ID, "JAAS_KEY_ID": KEY_ID, "JAAS_PRIVATE_KEY": pem(jaas_key)}
    assert jitsi.settings_from_env({**env, "JITSI_TOKEN_AUDIENCE": "jitsi"})
    with pytest.raises(ImproperlyConfigured, match="JITSI_TOKEN_AUDIENCE .*JaaS"):
        jitsi.settings_from_env({**env, "JITSI_TOKEN_AUDIENCE": "meet.example.org"})


def test_self_hosted_tokens_carry_the_configured_audience(selfhosted, muc_size, fake_get):
    """What prosody checks against asap_accepted_audiences (JWT_ACCEPTED_AUDIENCES): the join
    token and mod_muc_size's service token both say JITSI_TOKEN_AUDIENCE."""
    selfhosted.JITSI_TOKEN_AUDIENCE = "meet.example.org"
    token = jitsi.make_token(room=ROOM, user_pk=42, display_name="学员", moderator=False, now=NOW)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "meet.example.org"
    with pytest.raises(jwt.InvalidAudienceError):
        decode_hs256(token)  # the old fixed "jitsi" no longer fits
    calls, answers = fake_get
    answers.append(response(200, "[]"))
    assert jitsi.reconcile_room(ROOM) == []
    service = calls[0]["params"]["token"]
    assert jwt.decode(service, options={"verify_signature": False})["aud"] == "meet.example.org"


def test_jaas_tokens_always_say_jitsi(jaas_settings, jaas_key):
    jaas_settings.JITSI_TOKEN_AUDIENCE = "meet.example.org"  # never for JaaS
    token = jitsi.make_token(room=ROOM, user_pk=42, display_name="学员", moderator=False, now=NOW)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == "jitsi"


def test_jaas_and_self_hosted_together_are_refused(jaas_key):
    env = {
        "JAAS_APP_ID": APP_ID,
        "JAAS_KEY_ID": KEY_ID,
        "JAAS_PRIVATE_KEY": pem(jaas_key),
        "JITSI_APP_ID": "corrections",
        "JITSI_APP_SECRET": SECRET,
    }
    with pytest.raises(ImproperlyConfigured, match="JAAS_APP_ID and JITSI_APP_ID"):
        jitsi.settings_from_env(env)


@pytest.mark.parametrize(
    "key",
    [lambda: rsa_key(1024), lambda: ec.generate_private_key(ec.SECP256R1())],
    ids=["rsa-1024", "ec"],
)
def test_only_rsa_keys_of_2048_bits_or_more_are_accepted(key):
    env = {"JAAS_APP_ID": APP_ID, "JAAS_KEY_ID": KEY_ID, "JAAS_PRIVATE_KEY": pem(key())}
    with pytest.raises(ImproperlyConfigured, match="JAAS_PRIVATE_KEY"):
        jitsi.settings_from_env(env)


def test_a_malformed_jitsi_variable_stops_startup_with_its_name():
    result = run_django(["check"], JITSI_DOMAIN="https://meet.example.org/")
    assert result.returncode != 0
    assert "JITSI_DOMAIN" in result.stderr


# --- Reconciliation ------------------------------------------------------------------------------


def response(status: int, body: bytes | str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body.encode() if isinstance(body, str) else body
    return answer


@pytest.fixture
def muc_size(selfhosted):
    selfhosted.JITSI_MUC_SIZE_URL = "http://prosody:5280"
    return selfhosted


@pytest.fixture
def fake_get(monkeypatch):
    calls: list[dict] = []
    answers: list = []

    def get(url, **kwargs):
        calls.append({"url": url, **kwargs})
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(jitsi.requests, "get", get)
    return calls, answers


def test_reconcile_lists_our_participants(muc_size, fake_get):
    calls, answers = fake_get
    a, b = jitsi.participant_id(1), jitsi.participant_id(2)
    body = [
        {
            "jid": f"{ROOM}@conference.meet.jitsi/aa11",
            "email": jitsi.participant_email(a),
            "display_name": "学员甲",
        },
        {
            "jid": f"{ROOM}@conference.meet.jitsi/aa11",
            "email": jitsi.participant_email(a),
            "display_name": "学员甲",
        },  # the same session twice
        {
            "jid": f"{ROOM}@conference.meet.jitsi/bb22",
            "email": jitsi.participant_email(b),
            "display_name": "学员乙",
        },
        {"jid": f"{ROOM}@conference.meet.jitsi/cc33", "email": "", "display_name": "guest"},
        "junk",
    ]
    answers.append(response(200, json.dumps(body)))
    occupants = jitsi.reconcile_room(ROOM.upper())
    assert occupants == [
        {"id": a, "display_name": "学员甲", "jid": f"{ROOM}@conference.meet.jitsi/aa11"},
        {"id": b, "display_name": "学员乙", "jid": f"{ROOM}@conference.meet.jitsi/bb22"},
        {"id": "", "display_name": "guest", "jid": f"{ROOM}@conference.meet.jitsi/cc33"},
    ]
    (call,) = calls
    assert call["url"] == "http://prosody:5280/room"
    assert call["timeout"] == jitsi.RECONCILE_TIMEOUT
    assert call["allow_redirects"] is False
    params = call["params"]
    assert (params["room"], params["domain"]) == (ROOM, "meet.jitsi")
    service = jwt.decode(params["token"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert service["room"] == ROOM and service["sub"] == "meet.jitsi"


def test_reconcile_reads_an_unknown_room_as_empty(muc_size, fake_get):
    _, answers = fake_get
    answers.append(response(404, ""))
    assert jitsi.reconcile_room(ROOM) == []


@pytest.mark.parametrize(
    "answer",
    [
        requests.Timeout("read timed out"),
        requests.ConnectionError("refused"),
        response(500, "oops"),
        response(403, ""),
        response(302, ""),
        response(200, "<html>"),
        response(200, '{"participants": 3}'),
    ],
    ids=["timeout", "refused", "500", "403", "redirect", "html", "not-a-list"],
)
def test_reconcile_never_raises_and_logs_when_the_answer_is_unusable(
    muc_size, fake_get, caplog, answer
):
    _, answers = fake_get
    answers.append(answer)
    with caplog.at_level(logging.WARNING, logger="live.jitsi"):
        assert jitsi.reconcile_room(ROOM) is None
    assert "mod_muc_size" in caplog.text


def test_reconcile_is_off_without_a_url(selfhosted, fake_get):
    calls, _ = fake_get
    assert jitsi.reconcile_room(ROOM) is None
    assert calls == []


def test_reconcile_rejects_a_malformed_room(muc_size, fake_get):
    with pytest.raises(ValueError):
        jitsi.reconcile_room("../admin")


class _MucSize(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.seen.append(self.path)
        query = parse_qs(urlsplit(self.path).query)
        pid = jitsi.participant_id(9)
        body = json.dumps(
            [
                {
                    "jid": f"{query['room'][0]}@x/1",
                    "email": f"{pid}@participant.invalid",
                    "display_name": "d",
                }
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_reconcile_against_a_real_http_server(tokenless):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MucSize)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tokenless.JITSI_MUC_SIZE_URL = f"http://127.0.0.1:{server.server_port}"
        tokenless.JITSI_XMPP_DOMAIN = "meet.jitsi"
        occupants = jitsi.reconcile_room(ROOM)
    finally:
        server.shutdown()
        server.server_close()
    assert occupants == [{"id": jitsi.participant_id(9), "display_name": "d", "jid": f"{ROOM}@x/1"}]
    (path,) = _MucSize.seen
    assert urlsplit(path).path == "/room"
    assert parse_qs(urlsplit(path).query) == {"room": [ROOM], "domain": ["meet.jitsi"]}
