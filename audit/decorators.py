from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from audit.services import record_denial


def deny(request, detail: str = "") -> PermissionDenied:
    """Log a denial for this request and return the exception to raise.

    Wagtail's admin turns ``PermissionDenied`` into a redirect, so the 403 middleware never
    sees those; views call this instead of raising bare."""
    record_denial(request, detail)
    return PermissionDenied()


def permission_required(perm: str):
    """Like Django's ``permission_required(raise_exception=True)``, with the denial logged."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise deny(request, f"{request.method} needs {perm}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
