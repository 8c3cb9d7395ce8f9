"""The heartbeat's short way through the middleware: ``HeartbeatFastPathMiddleware``.

Every open lesson beats every 15 s, so the beat is most of the site's traffic. Through the
whole middleware stack a beat costs about 2.5 ms of CPU before the view runs: the session and
the user each loaded with a freshly compiled ORM query, then OTP, messages, locale, audit,
redirects, idle clock, two-factor and axes middleware, none of which changes a beat's answer.
``tests/learning/test_heartbeat_middleware_list.py`` pins that list: a middleware added to
the settings must be looked at here first.

This middleware sits before the session middleware and answers a beat itself only when the
answer is certain to be the one the full stack would give; anything else (no or expired
session, a CSRF or origin failure, a malformed body, a sign-out due, an auth hash that does
not verify, a user who is inactive or not enrolled) goes on down the full stack unchanged,
which answers it as before (403, 400, 404, the idle sign-out, the audit log of denials). So
the fast path can only be *narrower* than the full one, never more permissive:

- CSRF: Django's own ``CsrfViewMiddleware`` checks (origin, referer, token) run first.
- Session: with this project's engine (``lib.session_store``) the session row is read in
  the same query as the enrollment (``access.session_and_access_row``), for the user the
  session key was last seen with in this worker; the decoded session must name that user,
  or the enrollment is read again for the user it names. Expiry is checked in that query; a
  signed-out session (flushed row) is not found, so a sign-out stops beats at once. With any
  other engine Django's session middleware loads the session as usual.
- User: what ``django.contrib.auth.get_user`` checks with ``ModelBackend`` (backend allowed,
  user exists and is active, the session's auth hash matches the password's), from the same
  row (``session_user``). A hash that only a ``SECRET_KEY_FALLBACKS`` key verifies goes the
  full way (it rotates the key).
- Second step: a user who needs it (a staff role, ``is_staff``, a superuser) is never
  answered here, verified or not: the access row says so (``AccessRow.second_step``, read in
  the same query, and part of what the one-round-trip check below must still find), and the
  full stack's ``RequireStaffOTPMiddleware`` decides.
- Recording: ``store.record_common_beat`` records a beat that ``rule.decide_beat`` calls
  common (one call of ``learning_common_beat`` on PostgreSQL); the rest go through
  ``store.do_record_heartbeat``.
- One round trip (PostgreSQL): once a worker has checked a session for a lesson, it keeps
  what it checked (``access.CheckedSession``: the row's text and decoded data, the user,
  person, password hash and lesson length). The next beat of that lesson re-checks the kept
  data in Python (idle limit, backend, auth hash) and then reads the session row with the
  enrollment *and* records the beat in one statement (``store.session_beat``), which
  records it only if the rows read are still those kept; if anything changed (a sign-out,
  a new password, a withdrawn enrollment, a touch of the idle clock by another worker) it
  writes nothing and the beat is checked from the rows just read, as above. The kept data
  is the worker's own memory, never the client's: ``data`` is always ``text`` decoded.
- Idle sign-out (people/middleware.py): only a session active within the shorter (staff)
  limit is answered here; the once-a-minute touch of its clock is kept, saved by the session
  middleware's own ``process_response``.
- Headers: CSP and nosniff come from the middleware above this one; ``Cache-Control:
  no-store, private`` (a signed-in answer) and ``X-Frame-Options`` are set here.

Only JSON beats are answered here; ``navigator.sendBeacon`` forms (one per hidden tab) take
the full way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare

from learning.heartbeat import access, store, views
from learning.heartbeat.access import AccessRow, CheckedSession
from learning.heartbeat.rule import BeatRejected
from people.middleware import LAST_ACTIVITY_KEY, TOUCH_INTERVAL
from people.models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The session engine whose row this middleware reads itself, with the enrollment.
JOINED_SESSION_ENGINE = "lib.session_store"


# Per worker process: what it last checked of each session key (``access.CheckedSession``).
# Its stored text and decoded data: the same text always decodes the same, so the signature
# and JSON work is done once per change of the row. Its user: a hint that lets the session
# row and the enrollment be read in one query (the decoded session must still name that user).
# Its lesson, person, password hash and length: on PostgreSQL a beat of that lesson is
# recorded in the same statement as the session's read, if the rows read are still those.
_CHECKED: dict[str, CheckedSession] = {}
CACHE_ENTRIES = 50_000


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= CACHE_ENTRIES:
        cache.clear()
    cache[key] = value


class SessionUser(NamedTuple):
    """The user a session names, and its session auth hash (what ``get_user`` reads)."""

    user_id: int
    auth_hash: str


@dataclass(frozen=True, slots=True)
class LoadedSession:
    """A request's live session as ``HeartbeatFastPathMiddleware.load`` found it."""

    session: SessionBase  # the engine's, set as ``request.session``
    text: str | None  # the row's stored text (None: loaded by Django's session middleware)
    access: AccessRow | None  # read with the row, for the worker's hint of its user
    # When the beat was recorded in the session's read: what it did, and the check it went by.
    recorded: store.SessionBeat | None = None
    checked: CheckedSession | None = None


class HeartbeatFastPathMiddleware:
    """Answer ordinary JSON heartbeats without the rest of the stack (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.sessions = SessionMiddleware(get_response)
        self.csrf = CsrfViewMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)
        self.path = None  # the URL conf is not loaded yet when middleware is built
        # The session row is read with the enrollment only from this project's engine.
        self.joined_read = settings.SESSION_ENGINE == JOINED_SESSION_ENGINE
        # ... and, on PostgreSQL, the beat itself too (``store.session_beat``).
        self.beats_in_read = self.joined_read and connection.vendor == "postgresql"

    def __call__(self, request):
        if self.path is None:
            self.path = reverse("learning_heartbeat")
        if (
            request.method == "POST"
            and request.path_info == self.path
            and request.content_type == "application/json"
        ):
            response = self.answer(request)
            if response is not None:
                return response
        return self.get_response(request)

    def answer(self, request):
        """The beat's answer, or None to let the full stack answer (nothing written then)."""
        self.csrf.process_request(request)
        if self.csrf.process_view(request, views.heartbeat, (), {}) is not None:
            return None
        beat = views.parse_beat(request)
        if beat is None:
            return None
        now = int(time.time())
        loaded = self.load(request, beat.lesson_id, beat.tab if beat.playing else None, now)
        if loaded is None:
            return None
        session = loaded.session
        if loaded.recorded is not None:  # checked and recorded in the session's read
            response = self.recorded_answer(loaded.recorded, loaded.checked, beat.tab)
            return self.finish(request, session, response, now)
        user = session_user(session, now)
        if user is None:
            return None
        found = loaded.access
        if found is None or found.user_id != user.user_id:
            found = access.access_row_for_user_id(user.user_id, beat.lesson_id)
            if found is None:
                return None
        if (
            not found.is_active
            or found.second_step  # staff: the two-factor middleware decides (full stack)
            or not constant_time_compare(user.auth_hash, _session_auth_hash(found.password))
        ):
            return None
        if loaded.text is not None:
            checked = CheckedSession(
                text=loaded.text,
                data=dict(session.items()),
                user_id=user.user_id,
                lesson_id=found.lesson_id,
                person_id=found.person_id,
                expected_seconds=found.expected_seconds,
                password=found.password,
            )
            _remember(_CHECKED, session.session_key, checked)
        response = None
        if beat.playing:
            try:
                common = store.record_common_beat(
                    found.person_id,
                    found.lesson_id,
                    found.expected_seconds,
                    beat.tab,
                    timezone.now(),
                )
            except BeatRejected as rejected:
                response = views.beat_error(rejected.reason, 429)
            else:
                if common is not None:
                    response = views.beat_answer(
                        common.credited_seconds,
                        found.expected_seconds,
                        common.completed_at is not None,
                    )
        if response is None:
            person, lesson = access.partial_person_and_lesson(
                found.person_id, user.user_id, found.lesson_id, found.expected_seconds
            )
            response = views.record_beat(person, lesson, beat.tab, beat.playing)
        return self.finish(request, session, response, now)

    def recorded_answer(self, recorded: store.SessionBeat, checked: CheckedSession, tab: str):
        """The answer to a beat the session's read recorded (``store.session_beat``)."""
        if recorded.answer is not None:
            common = recorded.answer
            return views.beat_answer(
                common.credited_seconds, checked.expected_seconds, common.completed_at is not None
            )
        if recorded.rejected:
            return views.beat_error("too_fast", 429)
        person, lesson = access.partial_person_and_lesson(
            checked.person_id, checked.user_id, checked.lesson_id, checked.expected_seconds
        )
        return views.record_beat(person, lesson, tab, True)  # the general path

    def finish(self, request, session, response, now: int):
        """Touch the idle clock when due (saving the session), and the headers."""
        if now - session[LAST_ACTIVITY_KEY] >= TOUCH_INTERVAL:
            session[LAST_ACTIVITY_KEY] = now
        response = self.sessions.process_response(request, response)
        saved = getattr(session, "saved_text", None)
        checked = _CHECKED.get(session.session_key)
        if saved is not None and checked is not None:
            # The row now holds the text just written: what the next beat checks against.
            data = dict(session.items())
            _remember(_CHECKED, session.session_key, replace(checked, text=saved, data=data))
        response = self.csrf.process_response(request, response)
        patch_cache_control(response, no_store=True, private=True)
        return self.frame_options.process_response(request, response)

    def load(self, request, lesson_id: int, tab: str | None, now: int) -> LoadedSession | None:
        """The request's session (its cookie's), or None when there is no live session (the
        full stack answers then). With this project's session engine the row and the
        enrollment come in one query, for the user the session key was last seen with (its
        hint). On PostgreSQL, for a playing beat (``tab``) of a session and lesson this
        worker has checked, that query also records the beat when the rows are still the
        ones checked: ``LoadedSession.recorded`` then."""
        if not self.joined_read:
            self.sessions.process_request(request)
            return LoadedSession(request.session, None, None)
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key or len(key) < 8:
            return None
        # A pooled connection's health check would cost a round trip per beat: the read below
        # is the check. If it fails, the connection is dropped and the full stack answers.
        connection.health_check_done = True
        checked = _CHECKED.get(key)
        beats = (
            tab is not None
            and self.beats_in_read
            and checked is not None
            and checked.lesson_id == lesson_id
            and _still_valid(checked, now)
        )
        try:
            if beats:
                read = store.session_beat(key, checked, tab, timezone.now())
            else:
                hint = None if checked is None else checked.user_id
                read = access.session_and_access_row(key, hint, lesson_id)
        except DatabaseError:
            connection.close()
            return None
        if read is None:
            return None
        if beats and read.matched:
            session = self.session_for(request, key, checked.data)
            return LoadedSession(session, checked.text, None, read, checked)
        if checked is not None and checked.text == read.text:
            data = checked.data
        else:
            data = self.sessions.SessionStore(key).decode(read.text)
        return LoadedSession(self.session_for(request, key, data), read.text, read.access)

    def session_for(self, request, key: str, data: dict):
        """The request's session: ``data`` as its loaded content (read above, not again)."""
        session = self.sessions.SessionStore(key)
        session._session_cache = dict(data)
        request.session = session
        return session


def session_user(session, now: int) -> SessionUser | None:
    """The user a session (its data) names, when the fast path may answer for it at ``now``
    (what ``get_user`` reads, with the idle limit); None otherwise."""
    last = session.get(LAST_ACTIVITY_KEY)
    idle_limit = min(settings.SESSION_IDLE_TIMEOUT_STAFF, settings.SESSION_IDLE_TIMEOUT_LEARNER)
    if not isinstance(last, int) or now - last > idle_limit:
        return None
    if session.get(BACKEND_SESSION_KEY) != MODEL_BACKEND:
        return None
    if MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = User._meta.pk.to_python(session.get(SESSION_KEY))
    except ValidationError:
        return None
    auth_hash = session.get(HASH_SESSION_KEY)
    if user_id is None or not isinstance(auth_hash, str):
        return None
    return SessionUser(user_id, auth_hash)


def _still_valid(checked: CheckedSession, now: int) -> bool:
    """Whether ``checked``'s session passes the fast path's checks at ``now`` (with its kept
    password hash): then a read that finds the same rows may record the beat at once."""
    user = session_user(checked.data, now)
    return (
        user is not None
        and user.user_id == checked.user_id
        and constant_time_compare(user.auth_hash, _session_auth_hash(checked.password))
    )


_AUTH_HASHES: dict[tuple[str, str], str] = {}


def _session_auth_hash(password: str) -> str:
    """``get_session_auth_hash`` of a user with this password hash, once per worker."""
    key = (settings.SECRET_KEY, password)
    found = _AUTH_HASHES.get(key)
    if found is None:
        found = User(password=password).get_session_auth_hash()
        _remember(_AUTH_HASHES, key, found)
    return found
