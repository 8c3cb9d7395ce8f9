"""Sign out users who have been idle too long: 15 minutes for staff, 30 for learners.

The time of the last request is kept in the session (``LAST_ACTIVITY_KEY``, epoch seconds).
The clock starts at sign-in (``user_logged_in``, connected in ``PeopleConfig.ready``). To
avoid a session write on every request it is refreshed at most once a minute, so the
effective timeout is accurate to within ``TOUCH_INTERVAL`` seconds.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils.translation import gettext as _

from people.roles import STAFF_ROLES, roles_of

LAST_ACTIVITY_KEY = "people_last_activity"
TOUCH_INTERVAL = 60


@receiver(user_logged_in, dispatch_uid="people.idle_timeout.start_clock")
def start_idle_clock(sender, request, user, **kwargs):
    """Start the idle clock at sign-in (also for the test client's ``force_login``)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LAST_ACTIVITY_KEY] = int(time.time())


def idle_timeout_for(user) -> int:
    """Seconds of inactivity after which ``user`` is signed out."""
    staff = user.is_superuser or user.is_staff or bool(roles_of(user) & STAFF_ROLES)
    return idle_timeout(staff=staff)


def idle_timeout(*, staff: bool) -> int:
    if staff:
        return settings.SESSION_IDLE_TIMEOUT_STAFF
    return settings.SESSION_IDLE_TIMEOUT_LEARNER


def session_idle_too_long(session_data, now: int, *, staff: bool) -> bool:
    """Whether a session (its data) has been idle past the limit at ``now`` (epoch seconds):
    the rule this middleware signs out by, for the sockets (``people.consumers``)."""
    last = session_data.get(LAST_ACTIVITY_KEY)
    return isinstance(last, int) and now - last > idle_timeout(staff=staff)


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if isinstance(last, int):
                idle = now - last
                # The role lookup is only needed once the shorter (staff) limit has passed.
                shortest = min(
                    settings.SESSION_IDLE_TIMEOUT_STAFF, settings.SESSION_IDLE_TIMEOUT_LEARNER
                )
                if idle > shortest and idle > idle_timeout_for(user):
                    return self._sign_out(request)
            if not isinstance(last, int) or now - last >= TOUCH_INTERVAL:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _sign_out(request):
        admin = request.path.startswith("/admin/")
        logout(request)
        messages.info(
            request,
            _(
                "To protect your information, you were signed out after a period of "
                "inactivity. Please sign in again."
            ),
        )
        login_url = "wagtailadmin_login" if admin else settings.LOGIN_URL
        return redirect_to_login(request.get_full_path(), login_url)
