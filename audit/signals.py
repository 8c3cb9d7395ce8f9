"""Sign-in events come only through Django's auth signals, so they are recorded here."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.services import record_access


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record_access(request, action=Action.LOGIN, user=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_access(request, action=Action.LOGOUT, user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    record_access(
        request,
        action=Action.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        success=False,
    )
