"""Pages of the staff second sign-in step: set up an authenticator app, verify, recovery codes.

Thin callers of ``people/twofactor.py``. Only signed-in staff members reach them; learners get
404 (they never need two-factor authentication).
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from people import twofactor


def staff_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not twofactor.needs_two_factor(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _codes_page(request, codes: list[str], next_url: str, *, first_time: bool):
    return render(
        request,
        "people/twofactor/recovery_codes.html",
        {"codes": codes, "next": next_url, "first_time": first_time},
    )


@require_http_methods(["GET", "POST"])
@staff_only
def setup(request):
    user = request.user
    next_url = twofactor.safe_next(request)
    if twofactor.confirmed_totp_device(user) is not None:
        # Replacing a confirmed device would bypass the second step; that is an admin task.
        if user.is_verified():
            return redirect(next_url)
        return twofactor.redirect_with_next("twofactor_verify", next_url)

    device = twofactor.pending_totp_device(user)
    error = None
    if request.method == "POST":
        if twofactor.do_confirm_device(device, request.POST.get("token", "")):
            device.refresh_from_db()
            twofactor.mark_verified(request, device)
            codes = twofactor.do_generate_recovery_codes(user)
            return _codes_page(request, codes, next_url, first_time=True)
        error = _(
            "That code is not right. Check that the time on your phone is correct and enter "
            "the 6-digit code the app shows now."
        )
    secret = twofactor.b32_secret(device)
    return render(
        request,
        "people/twofactor/setup.html",
        {
            "qr_code": twofactor.qr_code_data_uri(device.config_url),
            "secret": _grouped(secret),
            "issuer": settings.OTP_TOTP_ISSUER,
            "next": next_url,
            "error": error,
        },
        status=200 if error is None else 400,
    )


@require_http_methods(["GET", "POST"])
@staff_only
def verify(request):
    user = request.user
    next_url = twofactor.safe_next(request)
    if twofactor.confirmed_totp_device(user) is None:
        return twofactor.redirect_with_next("twofactor_setup", next_url)
    if twofactor.is_locked_out(user):
        return _locked(request)

    error = None
    if request.method == "POST":
        device = twofactor.verify_second_factor(request, user, request.POST.get("token", ""))
        if device is not None:
            twofactor.mark_verified(request, device)
            return redirect(next_url)
        if twofactor.is_locked_out(user):
            return _locked(request)
        error = _(
            "That code is not right. Enter the 6-digit code your authenticator app shows "
            "now, or one of your recovery codes."
        )
    return render(
        request,
        "people/twofactor/verify.html",
        {"next": next_url, "error": error},
        status=200 if error is None else 400,
    )


def _locked(request):
    minutes = int(twofactor.lockout_period().total_seconds() // 60)
    return render(
        request,
        "people/twofactor/locked.html",
        {"cooloff_minutes": minutes},
        status=429,
    )


@require_http_methods(["GET", "POST"])
@staff_only
def recovery(request):
    user = request.user
    if not user.is_verified():
        if twofactor.confirmed_totp_device(user) is None:
            return twofactor.redirect_with_next("twofactor_setup", request.path)
        return twofactor.redirect_with_next("twofactor_verify", request.path)
    next_url = twofactor.safe_next(request)
    if request.method == "POST":
        codes = twofactor.do_generate_recovery_codes(user)
        return _codes_page(request, codes, next_url, first_time=False)
    return render(
        request,
        "people/twofactor/recovery.html",
        {"remaining": twofactor.remaining_recovery_codes(user), "next": next_url},
    )
