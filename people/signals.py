"""Auth signal receivers of the people app (connected in ``PeopleConfig.ready``)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from lib.broadcast import end_user_sockets


@receiver(user_logged_out, dispatch_uid="people.close_sockets_on_logout")
def close_sockets_on_logout(sender, request, user, **kwargs):
    """Signing out on one device closes that user's live sockets everywhere."""
    if user is not None:
        end_user_sockets(user.pk)
