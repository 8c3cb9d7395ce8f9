"""Two-factor authentication (TOTP with recovery codes) for staff, enforced everywhere.

Every staff member (``is_staff_member``: lecturer, counselor, officer, administrator, editor,
or a superuser; also any ``is_staff`` user, who could use Django's admin) must pass a second
step before any page or socket: a 6-digit code from an authenticator app (django-otp
``TOTPDevice``) or one of ten one-time recovery codes (``StaticDevice`` named ``recovery``).
Until then the account is signed in for the second step only (``RequireStaffOTPMiddleware``
for HTTP, ``sessions_past_second_factor`` for sockets). Learners never need it.

Wrong codes are counted on the user's confirmed TOTP device (django-otp's throttling fields,
which a password sign-in does not reset): ``TWO_FACTOR_FAILURE_LIMIT`` (5) failures lock the
second step for ``AXES_COOLOFF_TIME`` (30 minutes). Each failure is also sent as
``user_login_failed``, so it reaches the access log and django-axes like a wrong password.

Views are in ``people/twofactor_views.py``; docs in ``docs/security.md``.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from people.roles import is_staff_member

RECOVERY_DEVICE_NAME = "recovery"
TOTP_DEVICE_NAME = "authenticator"
# What a signed-in staff member who has not passed the second step may still reach (URL
# names): signing in and out, the second step itself, the language switch its pages offer,
# the health check, and the webhooks, which authenticate with their own secret. Static files
# are exempt by prefix (``STATIC_URL``). Everything else is refused.
EXEMPT_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "wagtailadmin_login",
        "wagtailadmin_logout",
        "admin:login",
        "admin:logout",
        "twofactor_setup",
        "twofactor_verify",
        "twofactor_recovery",
        "set_language",
        "health",
        "live_hook_jaas",
        "live_hook_prosody",
    }
)
DEFAULT_NEXT = "/admin/"

_SPACES = re.compile(r"[\s-]+")


def needs_two_factor(user) -> bool:
    """Staff members, superusers and ``is_staff`` users need the second step; learners never."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_staff_member(user) or bool(getattr(user, "is_staff", False))


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_totp_device(user) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first call and reused afterwards."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def b32_secret(device: TOTPDevice) -> str:
    """The device's secret in base32, for typing into an authenticator app by hand."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def normalise_token(token: str) -> str:
    return _SPACES.sub("", str(token or "")).lower()


def check_totp_token(device: TOTPDevice, token: str) -> bool:
    """True if ``token`` is a currently valid code of ``device``; a code is accepted once.

    Like ``TOTPDevice.verify_token`` but without its failure counting: failures are counted
    by ``verify_second_factor`` (the lockout rule), not here.
    """
    token = normalise_token(token)
    if not token.isdigit() or len(token) != device.digits:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance, device.last_t + 1):
        return False
    device.last_t = totp.t()
    if getattr(settings, "OTP_TOTP_SYNC", True):
        device.drift = totp.drift
    device.set_last_used_timestamp(commit=False)
    device.save(update_fields=["last_t", "drift", "last_used_at"])
    return True


@transaction.atomic
def do_confirm_device(device: TOTPDevice, token: str) -> bool:
    """Confirm ``device`` if ``token`` is right; other TOTP devices of the user are removed.

    A wrong code changes nothing (the device stays unconfirmed).
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not check_totp_token(device, token):
        return False
    device.confirmed = True
    device.throttle_reset(commit=False)
    device.save()
    TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    return True


@transaction.atomic
def do_generate_recovery_codes(user, n: int = 10) -> list[str]:
    """Replace the user's recovery codes with ``n`` new one-time codes and return them."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.token_set.all().delete()
    codes: list[str] = []
    while len(codes) < n:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def remaining_recovery_codes(user) -> int:
    return StaticToken.objects.filter(
        device__user=user, device__name=RECOVERY_DEVICE_NAME, device__confirmed=True
    ).count()


# --- Lockout -----------------------------------------------------------------------------------


def failure_limit() -> int:
    return getattr(settings, "TWO_FACTOR_FAILURE_LIMIT", 5)


def lockout_period() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def is_locked_out(user) -> bool:
    """True while the user has had too many wrong codes in the last lockout period.

    A read for the pages (the lock notice); the decision to check a code is taken again
    inside the device's row lock by ``verify_second_factor``.
    """
    device = confirmed_totp_device(user)
    return device is not None and _device_locked_out(device)


def _device_locked_out(device: TOTPDevice) -> bool:
    stamp = device.throttling_failure_timestamp
    if stamp is None or timezone.now() - stamp >= lockout_period():
        return False
    return device.throttling_failure_count >= failure_limit()


def _record_failure(device: TOTPDevice) -> None:
    """Count a wrong code; a failure after the lockout period starts a fresh count.

    Call inside the device's row lock, on the locked row.
    """
    stamp = device.throttling_failure_timestamp
    if stamp is not None and timezone.now() - stamp >= lockout_period():
        device.throttling_failure_count = 0
    device.throttle_increment(commit=False)
    device.save(update_fields=["throttling_failure_count", "throttling_failure_timestamp"])


def verify_second_factor(request, user, token: str):
    """Check a TOTP code or a recovery code of ``user``; return the device that accepted it.

    Returns ``None`` for a wrong code (counted toward the lockout) or while locked out. A
    recovery code is consumed when it is accepted.

    The lock is decided, the code checked and a failure counted under one row lock on the
    user's confirmed TOTP device (``select_for_update``; on SQLite the IMMEDIATE transaction
    holds the write lock from its start), so a burst of concurrent requests checks at most
    ``failure_limit()`` codes: each waits for the one before it and sees its count.
    """
    token = normalise_token(token)
    with transaction.atomic():
        totp = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if totp is None or _device_locked_out(totp):
            return None
        if token and check_totp_token(totp, token):
            totp.throttle_reset()
            return totp
        recovery = (
            StaticDevice.objects.select_for_update()
            .filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
            .first()
        )
        if token and recovery is not None and recovery.verify_token(token):
            totp.throttle_reset()
            return recovery
        _record_failure(totp)
    # Outside the row lock: the access log and django-axes write rows of their own.
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username()},
        request=request,
    )
    return None


def mark_verified(request, device) -> None:
    """Record in the session that the signed-in user passed the second step."""
    request.session.cycle_key()
    django_otp.login(request, device)


# --- Redirects ---------------------------------------------------------------------------------


def safe_next(request, default: str = DEFAULT_NEXT) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def redirect_with_next(url_name: str, next_url: str):
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code of ``text`` as a ``data:`` URI (allowed by the site's CSP for images)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(text, image_factory=SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def sessions_past_second_factor(stored: Iterable[tuple[int, object]]) -> set[tuple[int, object]]:
    """Of ``(user id, the device id the user's session stores)`` pairs (django-otp's
    ``otp_device_id``), those whose device is a confirmed device of that user: what
    ``OTPMiddleware`` checks before ``is_verified()``, for sockets. One query per device
    model named (two at most: the authenticator and the recovery codes)."""
    wanted: dict[str, set[int]] = {}  # model label → device pks
    parsed: dict[tuple[int, object], tuple[str, int]] = {}
    for pair in set(stored):
        label, _, pk = str(pair[1] or "").partition("/")
        label = label.lower()
        if label in _DEVICE_MODELS and pk.isdigit():
            parsed[pair] = (label, int(pk))
            wanted.setdefault(label, set()).add(int(pk))
    owners: dict[tuple[str, int], int] = {}
    for label, pks in wanted.items():
        rows = _DEVICE_MODELS[label].objects.filter(pk__in=pks, confirmed=True)
        owners.update(((label, pk), user) for pk, user in rows.values_list("pk", "user_id"))
    return {pair for pair, device in parsed.items() if owners.get(device) == pair[0]}


_DEVICE_MODELS = {model.model_label(): model for model in (TOTPDevice, StaticDevice)}


def _wants_json(request) -> bool:
    if request.content_type == "application/json":
        return True
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        return True
    return request.accepts("application/json") and not request.accepts("text/html")


class RequireStaffOTPMiddleware:
    """Refuse signed-in staff who have not passed the second step everything but that step.

    Must come after ``django_otp.middleware.OTPMiddleware``. A page request goes to the setup
    page (no confirmed device) or the verify page, with ``next`` set to the requested page; a
    JSON request (``Content-Type`` or ``Accept`` JSON, or XMLHttpRequest) gets 403 with a
    JSON body. The routes of ``EXEMPT_URL_NAMES`` and static files stay reachable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and needs_two_factor(user)
            and not self.exempt(request)
        ):
            return self.refuse(request, user)
        return self.get_response(request)

    @staticmethod
    def exempt(request) -> bool:
        if settings.STATIC_URL and request.path_info.startswith(settings.STATIC_URL):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in EXEMPT_URL_NAMES

    @staticmethod
    def refuse(request, user):
        setup = confirmed_totp_device(user) is None
        url_name = "twofactor_setup" if setup else "twofactor_verify"
        if _wants_json(request):
            return JsonResponse(
                {
                    "error": "two_factor_required",
                    "message": gettext("Finish two-step sign-in first."),
                    "url": reverse(url_name),
                },
                status=403,
            )
        return redirect_with_next(url_name, request.get_full_path())
