"""Security headers the framework does not set by itself.

- ``Content-Security-Policy``: on the public site a strict policy with a per-request nonce
  (``request.csp_nonce``; use it as ``<script nonce="{{ request.csp_nonce }}">``) and no
  ``unsafe-inline``. The Wagtail and Django admins render inline scripts and styles of their
  own, so under ``/admin/`` and ``/django-admin/`` the policy allows them but still forbids
  plugins, framing and foreign origins.
- ``Cache-Control: no-store`` on every response to a signed-in user: their pages carry
  personal data and must not be kept by shared proxies or on a shared phone.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import patch_cache_control

ADMIN_PREFIXES = ("/admin/", "/django-admin/")


def _frame_sources() -> str:
    extra = " ".join(getattr(settings, "CSP_FRAME_SRC", []))
    return f"'self' {extra}".strip()


def build_policy(nonce: str, admin: bool, host: str = "") -> str:
    if admin:
        script = "'self' 'unsafe-inline'"
        style = "'self' 'unsafe-inline'"
    else:
        script = f"'self' 'nonce-{nonce}'"
        style = f"'self' 'nonce-{nonce}'"
    extra_scripts = " ".join(getattr(settings, "CSP_SCRIPT_SRC", []))
    if extra_scripts:
        script = f"{script} {extra_scripts}"
    directives = {
        "default-src": "'self'",
        "script-src": script,
        "style-src": style,
        "img-src": "'self' data: blob:",
        "media-src": f"'self' blob: {' '.join(getattr(settings, 'CSP_MEDIA_SRC', []))}".strip(),
        "font-src": "'self' data:",
        # 'self' covers same-origin websockets in current browsers; older WebKit needs the
        # explicit scheme.
        "connect-src": f"'self' wss://{host}" + (f" ws://{host}" if settings.DEBUG else "")
        if host
        else "'self'",
        "frame-src": _frame_sources(),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'self'" if admin else "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _host(request) -> str:
    try:
        return request.get_host()
    except Exception:  # DisallowedHost: Django answers 400 itself; no host in the policy
        return ""


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        admin = request.path.startswith(ADMIN_PREFIXES)
        response.setdefault(
            "Content-Security-Policy", build_policy(request.csp_nonce, admin, _host(request))
        )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class RejectNullCharactersMiddleware:
    """Answer 400 to a URL or query string containing NUL: no view needs it, and PostgreSQL
    refuses it in text (a 500 deep in whatever query the value reached). Form fields already
    reject NUL through Django's ``ProhibitNullCharactersValidator``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("Null characters are not allowed.")
        return self.get_response(request)
