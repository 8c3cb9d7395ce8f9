"""The fast path (``learning/heartbeat/middleware.py``) answers ordinary JSON beats in place of
every middleware after it, re-doing what each of them would do to a beat (session, CSRF,
user, idle clock, headers), and counts on those before it (security headers). A middleware
added, removed or moved changes what a beat's answer should be: this list makes someone look.
"""

from __future__ import annotations

from django.conf import settings

# settings.MIDDLEWARE as the fast path was last checked against it.
CHECKED_AGAINST = [
    "django.middleware.security.SecurityMiddleware",
    "lib.security.SecurityHeadersMiddleware",
    "lib.security.RejectNullCharactersMiddleware",
    "learning.heartbeat.middleware.HeartbeatFastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "audit.middleware.DeniedAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "people.middleware.IdleTimeoutMiddleware",
    "people.twofactor.RequireStaffOTPMiddleware",
    "axes.middleware.AxesMiddleware",
]


def test_the_middleware_the_fast_path_stands_in_for_is_the_one_it_was_checked_against():
    assert list(settings.MIDDLEWARE) == CHECKED_AGAINST, (
        "settings.MIDDLEWARE changed. The heartbeat's fast path answers beats in place of "
        "every middleware after it: check learning/heartbeat/middleware.py (would the new "
        "list change a beat's answer, headers or writes?), then update CHECKED_AGAINST here."
    )
