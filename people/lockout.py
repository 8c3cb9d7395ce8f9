"""The page django-axes shows when a username + IP pair is locked out (AXES_LOCKOUT_CALLABLE),
and the sign-in view that warns before the lock."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.contrib.auth.views import LoginView
from django.shortcuts import render
from django.utils.translation import ngettext

from people.roles import is_staff_member


def lockout_response(request, original_response=None, credentials=None):
    """Render the friendly lockout page with HTTP 429 (Too Many Requests)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "people/lockout.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


# Where staff land after signing in without a ``next``.
STAFF_HOME = "/admin/"

# Warn on a failed sign-in once this many attempts or fewer are left before the lock.
WARN_WHEN_LEFT = 2


def attempts_left(request, username: str) -> int:
    """Failed sign-ins still allowed for ``username`` from this address before django-axes
    locks the pair (``AXES_LOCKOUT_PARAMETERS``)."""
    credentials = {"username": username}
    limit = get_failure_limit(request, credentials)
    return max(0, limit - AxesProxyHandler.get_failures(request, credentials))


class SignInView(LoginView):
    """Django's sign-in, plus "N attempts left" when the lock is near, so nobody is locked
    out without warning."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        # Staff work in the admin; the learner front page would leave them one button away
        # from it. A safe ``next`` still wins (``get_success_url`` asks for it first).
        if is_staff_member(self.request.user):
            return STAFF_HOME
        return super().get_default_redirect_url()

    def form_invalid(self, form):
        # The form's cleaned value: the raw one may hold what the field refuses (a NUL, which
        # PostgreSQL cannot even compare) and must not reach django-axes' query.
        username = (form.cleaned_data.get("username") or "").strip()[:150]
        if username:
            left = attempts_left(self.request, username)
            if 0 < left <= WARN_WHEN_LEFT:
                form.add_error(
                    None,
                    ngettext(
                        "You can try %(count)s more time. After that, sign-in is locked for "
                        "%(minutes)s minutes.",
                        "You can try %(count)s more times. After that, sign-in is locked for "
                        "%(minutes)s minutes.",
                        left,
                    )
                    % {
                        "count": left,
                        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
                    },
                )
        return super().form_invalid(form)
