"""The heartbeat's short way through the middleware: ``HeartbeatFastPathMiddleware``.

Every open lesson beats every 15 s, so the beat is most of the site's traffic. Through the
whole middleware stack a beat costs about 2.5 ms of CPU before the view runs: the session and
the user each loaded with a freshly compiled ORM query, then OTP, messages, locale, audit,
redirects, idle clock, two-factor and axes middleware, none of which changes a beat's answer.

This middleware sits before the session middleware and answers a beat itself only when the
answer is certain to be the one the full stack would give; anything else (no or expired
session, a CSRF or origin failure, a malformed body, a sign-out due, an auth hash that does
not verify, a user who is inactive or not enrolled) goes on down the full stack unchanged,
which answers it as before (403, 400, 404, the idle sign-out, the audit log of denials). So
the fast path can only be *narrower* than the full one, never more permissive:

- CSRF: Django's own ``CsrfViewMiddleware`` checks (origin, referer, token) run first.
- Session: Django's session middleware and the configured engine load it; a signed-out
  session (flushed row) has no user, so a sign-out stops beats at once, not after a delay.
- User: what ``django.contrib.auth.get_user`` checks with ``ModelBackend`` (backend allowed,
  user exists and is active, the session's auth hash matches the password's), read in the
  one query that also checks enrollment (``services.access_lesson_for_user_id``). A hash
  that only a ``SECRET_KEY_FALLBACKS`` key verifies goes the full way (it rotates the key).
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

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare

from learning import services, views
from people.middleware import LAST_ACTIVITY_KEY, TOUCH_INTERVAL
from people.models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class HeartbeatFastPathMiddleware:
    """Answer ordinary JSON heartbeats without the rest of the stack (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.sessions = SessionMiddleware(get_response)
        self.csrf = CsrfViewMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)
        self.path = None  # the URL conf is not loaded yet when middleware is built

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
        self.sessions.process_request(request)
        session = request.session
        now = int(time.time())
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
        session_hash = session.get(HASH_SESSION_KEY)
        if user_id is None or not isinstance(session_hash, str):
            return None
        beat = views.parse_beat(request)
        if beat is None:
            return None
        lesson_id, tab, playing = beat
        found = services.access_lesson_for_user_id(user_id, lesson_id)
        if found is None:
            return None
        person, lesson, user = found
        if not user.is_active or not constant_time_compare(
            session_hash, user.get_session_auth_hash()
        ):
            return None
        request.user = user
        response = views.record_beat(person, lesson, tab, playing)
        if now - last >= TOUCH_INTERVAL:
            session[LAST_ACTIVITY_KEY] = now
        response = self.sessions.process_response(request, response)
        response = self.csrf.process_response(request, response)
        patch_cache_control(response, no_store=True, private=True)
        return self.frame_options.process_response(request, response)
