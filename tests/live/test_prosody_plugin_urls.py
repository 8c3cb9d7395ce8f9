"""The jitsi-contrib ``event_sync`` plugin posting to its own URLs (issue #18).

The bodies are built field for field as the plugin builds them: jitsi-contrib/prosody-plugins
at cd9b905d, ``event_sync/mod_event_sync_component.lua`` (line numbers at each builder). The
user context is what prosody's token module binds to the session from one of our real join
tokens (``session.jitsi_meet_context_user = claims["context"]["user"]``, jitsi-meet
``resources/prosody-plugins/token/util.lib.lua``). Prosody's ``util.json`` leaves nil values
out, so a field the Lua sets to nil is absent here too.
"""

from __future__ import annotations

import json

import jwt
import pytest
from django.test import Client

from live import jitsi, services
from live.audience import do_resolve_audience
from live.models import Attendance, AttendanceStatus, EventType, Lecture, PresenceEvent
from tests.live.conftest import FIXTURE_END, FIXTURE_START, PROSODY_URL, TOKEN

pytestmark = pytest.mark.django_db

# What docs/deploy.md tells the operator to set as api_prefix (the scheme and host left out).
API_PREFIX = "/live/hooks/prosody"
# L74-77: URL_EVENT_ROOM_CREATED = api_prefix..'/events/room/created', and so on.
URLS = {
    "muc-room-created": API_PREFIX + "/events/room/created",
    "muc-room-destroyed": API_PREFIX + "/events/room/destroyed",
    "muc-occupant-joined": API_PREFIX + "/events/occupant/joined",
    "muc-occupant-left": API_PREFIX + "/events/occupant/left",
}
ROOM = "lecture-0123456789abcdef01234567"
MUC = "conference.meet.example.org"
BREAKOUT = "3f1e9c2a-7b44-4d0e-9a61-5c2b8d7e4f10"  # a breakout room's node (Jitsi uses a uuid)
T0 = int(FIXTURE_START.timestamp())
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# (include_user_info, include_speaker_stats): the plugin's defaults, and what the docs advise
CONFIGS = [(False, False), (True, True)]


class PluginRoom:
    """One room as the plugin tracks it: ``EventData`` (L132-210) plus the extra payload the
    room-created hooks store on the room (L420-452)."""

    def __init__(self, *, breakout: str | None, include_user_info: bool, speaker_stats: bool):
        self.include_user_info = include_user_info
        self.speaker_stats = speaker_stats
        if breakout is None:  # handle_main_room_created, L426-430
            self.extra = {"is_breakout": False, "room_jid": f"{ROOM}@{MUC}", "room_name": ROOM}
        else:  # handle_breakout_room_created, L444-450: room_* name the main room
            self.extra = {
                "is_breakout": True,
                "breakout_room_id": breakout,
                "room_jid": f"{ROOM}@{MUC}",
                "room_name": ROOM,
            }
        self.created_at: int | None = None
        self.occupants: dict[str, dict] = {}  # L140, the Lua tables, mutated in place
        self.active: set[str] = set()  # L141

    def _payload(self, fields: dict) -> dict:
        fields.update(self.extra)  # update_with_room_attributes, L229-235
        return json.loads(json.dumps(fields))  # json.encode at the time of the call

    def created(self, at: int) -> dict:  # room_created, L247-254
        self.created_at = at  # new_EventData, L139
        return self._payload({"event_name": "muc-room-created", "created_at": at})

    def joined(self, occupant_jid: str, user_context: dict, at: int) -> dict:
        data = {"occupant_jid": occupant_jid, "joined_at": at}  # L148-152 (left_at = nil)
        if self.include_user_info:  # L154-157: the whole token user context
            data.update(user_context)
        else:  # L159-161: three fields, nil ones left out
            data.update({k: user_context[k] for k in ("name", "id", "email") if k in user_context})
        self.occupants[occupant_jid] = data
        self.active.add(occupant_jid)
        return self._payload(  # occupant_joined, L313-317
            {
                "event_name": "muc-occupant-joined",
                "occupant": data,
                "active_occupants_count": len(self.active),
            }
        )

    def left(self, occupant_jid: str, at: int, speaker_ms: int = 0) -> dict:
        self.active.discard(occupant_jid)  # on_occupant_leave, L171-189
        data = self.occupants[occupant_jid]
        data["left_at"] = at
        if self.speaker_stats:  # L180-186 (room.speakerStats present)
            data["total_dominant_speaker_time"] = speaker_ms
        return self._payload(  # occupant_left, L346-350
            {
                "event_name": "muc-occupant-left",
                "occupant": data,
                "active_occupants_count": len(self.active),
            }
        )

    def destroyed(self, at: int) -> dict:  # room_destroyed, L280-285
        return self._payload(
            {
                "event_name": "muc-room-destroyed",
                "created_at": self.created_at,
                "destroyed_at": at,
                "all_occupants": list(self.occupants.values()),
            }
        )


@pytest.fixture
def plugin_setup(settings, org):
    """A self-hosted server with the webhook token set, and a lecture for the east office whose
    audience is fixed (participant ids as the join tokens carry them)."""
    settings.JAAS_APP_ID = ""
    settings.JITSI_APP_ID = "corrections"
    settings.JITSI_APP_SECRET = "self-hosted-app-secret-0123456789abcdef"
    settings.JITSI_XMPP_DOMAIN = "meet.example.org"
    settings.PROSODY_WEBHOOK_TOKEN = TOKEN
    lecture = Lecture.objects.create(
        title="法治讲座",
        lecturer=org.lecturer,
        lecturer_title="检察官",
        start=FIXTURE_START,
        end=FIXTURE_END,
        room_name=ROOM,
    )
    lecture.audience_offices.add(org.east)
    do_resolve_audience(lecture)
    return lecture


def user_context(user) -> dict:
    """``context.user`` of the join token we give ``user`` (what prosody binds, L147)."""
    token = jitsi.make_token(room=ROOM, user_pk=user.pk, display_name="学员", moderator=False)
    return jwt.decode(token, options={"verify_signature": False})["context"]["user"]


def post(client: Client, url: str, body: dict, headers=AUTH):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def plugin_post(client: Client, body: dict, headers=AUTH):
    """Post ``body`` where the plugin posts it: the URL of its event."""
    return post(client, URLS[body["event_name"]], body, headers)


def session(org, *, include_user_info: bool, speaker_stats: bool) -> list[dict]:
    """A learner's hour: 0-20 min in the main room, 20-40 in a breakout room, back until the
    end; every body the plugin would post, in order."""
    main = PluginRoom(
        breakout=None, include_user_info=include_user_info, speaker_stats=speaker_stats
    )
    side = PluginRoom(
        breakout=BREAKOUT, include_user_info=include_user_info, speaker_stats=speaker_stats
    )
    jid = "14f01c40-5195-4a4d-8efb-f58b49d18741@meet.example.org/OWhl8jSh"
    user = user_context(org.person.user)
    return [
        main.created(T0 - 60),
        main.joined(jid, user, T0),
        main.left(jid, T0 + 1200, speaker_ms=4000),
        side.created(T0 + 1201),
        side.joined(jid, user, T0 + 1201),
        side.left(jid, T0 + 2400),
        side.destroyed(T0 + 2400),
        main.joined(jid, user, T0 + 2401),
        main.left(jid, T0 + 3600),
        main.destroyed(T0 + 3600),
    ]


@pytest.mark.parametrize(("include_user_info", "speaker_stats"), CONFIGS)
def test_each_plugin_url_stores_the_bodies_the_plugin_sends(
    client, org, plugin_setup, include_user_info, speaker_stats
):
    bodies = session(org, include_user_info=include_user_info, speaker_stats=speaker_stats)
    occupant = bodies[1]["occupant"]
    expected_keys = {"occupant_jid", "joined_at", "name", "id", "email"}
    if include_user_info:
        expected_keys |= {"moderator", "affiliation"}
    assert set(occupant) == expected_keys  # the builder follows the token it was given

    for body in bodies:
        response = plugin_post(client, body)
        assert response.status_code == 200, (body["event_name"], response.content)
        assert response.json() == {"status": "stored"}

    stored = list(PresenceEvent.objects.order_by("pk"))
    assert [e.event_type for e in stored] == [b["event_name"] for b in bodies]
    assert {e.room_name for e in stored} == {ROOM}
    pid = jitsi.participant_id(org.person.user.pk)
    assert {e.user_id for e in stored if e.event_type.startswith("muc-occupant")} == {pid}
    assert [e.payload for e in stored] == bodies


@pytest.mark.parametrize(("include_user_info", "speaker_stats"), CONFIGS)
def test_a_lecture_followed_through_the_plugin_urls_gets_its_attendance(
    client, org, plugin_setup, include_user_info, speaker_stats
):
    for body in session(org, include_user_info=include_user_info, speaker_stats=speaker_stats):
        assert plugin_post(client, body).status_code == 200
    services.do_recompute_attendance(plugin_setup, now=FIXTURE_END)
    row = Attendance.objects.get(lecture=plugin_setup, person=org.person)
    # the whole hour: the 1-second hops to and from the breakout room are bridged
    assert (row.status, row.seconds) == (AttendanceStatus.PRESENT, 3600)


def test_the_single_endpoint_takes_the_same_bodies_and_shares_their_dedupe(
    client, org, plugin_setup
):
    bodies = session(org, include_user_info=True, speaker_stats=True)
    assert post(client, PROSODY_URL, bodies[1]).json() == {"status": "stored"}
    # a retry of the same event through the other door is the same event
    again = plugin_post(client, bodies[1])
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert PresenceEvent.objects.count() == 1


MISROUTED = [
    (url_event, body_event) for url_event in URLS for body_event in URLS if url_event != body_event
]


@pytest.mark.parametrize(("url_event", "body_event"), MISROUTED)
def test_a_body_naming_another_event_than_its_url_is_refused(
    client, org, plugin_setup, url_event, body_event
):
    bodies = {
        b["event_name"]: b for b in session(org, include_user_info=False, speaker_stats=False)
    }
    response = post(client, URLS[url_event], bodies[body_event])
    assert response.status_code == 400
    assert response.json() == {
        "status": "rejected",
        "reason": f"event_name does not match this URL, which takes {url_event}",
    }
    assert not PresenceEvent.objects.exists()


@pytest.mark.parametrize("url", URLS.values())
@pytest.mark.parametrize("event_name", ["muc-occupant-pre-join", "", None, 7])
def test_an_unknown_event_name_is_refused_on_the_plugin_urls(
    client, org, plugin_setup, url, event_name
):
    body = session(org, include_user_info=False, speaker_stats=False)[1]
    response = post(client, url, {**body, "event_name": event_name})
    assert response.status_code == 400
    assert response.json() == {"status": "rejected", "reason": "unknown event type"}
    assert not PresenceEvent.objects.exists()


@pytest.mark.parametrize("url", URLS.values())
def test_the_plugin_urls_want_the_bearer_token(client, org, plugin_setup, settings, url):
    body = session(org, include_user_info=False, speaker_stats=False)[1]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = post(client, url, body, headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    settings.PROSODY_WEBHOOK_TOKEN = ""
    assert post(client, url, body).status_code == 503
    assert not PresenceEvent.objects.exists()


def test_the_hooks_are_never_redirected_by_append_slash(client, org, plugin_setup, settings):
    """Under DEBUG a POST that APPEND_SLASH would redirect is a RuntimeError (a 500); in
    production a 301 the plugin does not follow. Neither may happen to a hook."""
    settings.DEBUG = True
    settings.APPEND_SLASH = True
    client = Client(raise_request_exception=False)
    body = session(org, include_user_info=False, speaker_stats=False)[1]
    assert plugin_post(client, body).status_code == 200
    for url in (
        *(u + "/" for u in URLS.values()),  # a trailing slash the plugin never adds
        API_PREFIX + "/events/room/metadata",  # an event this project does not know
    ):
        response = post(client, url, body)
        assert response.status_code == 404, url
        assert response.json() == {"status": "rejected", "reason": "no such event URL"}
    for url in (API_PREFIX, "/live/hooks/jaas"):  # the single endpoints without their slash
        assert post(client, url, body).status_code == 404, url
    assert PresenceEvent.objects.count() == 1


@pytest.mark.parametrize("url", [*URLS.values(), API_PREFIX + "/events/x"])
def test_the_plugin_urls_take_only_post(client, plugin_setup, url):
    assert client.get(url).status_code == 405


def test_the_builders_match_the_plugins_readme_example_shape():
    """The README's example occupant-left body (event_sync/README.md) has exactly the keys our
    builder gives with include_user_info off and no speaker stats."""
    room = PluginRoom(breakout=None, include_user_info=False, speaker_stats=False)
    context = {"name": "James Barrow", "email": "j.barrow@domain.com", "id": "0038"}
    room.created(1625823996)
    room.joined("14f0@meet.mydomain.com/OWhl8jSh", context, 1625823996)
    body = room.left("14f0@meet.mydomain.com/OWhl8jSh", 1625824035)
    assert set(body) == {
        "event_name",
        "room_name",
        "room_jid",
        "is_breakout",
        "active_occupants_count",
        "occupant",
    }
    assert set(body["occupant"]) == {"name", "email", "id", "occupant_jid", "joined_at", "left_at"}
    assert (body["event_name"], body["active_occupants_count"]) == (EventType.OCCUPANT_LEFT, 0)
