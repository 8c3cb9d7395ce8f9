"""Signal receivers of the people app (connected in ``PeopleConfig.ready``)."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.signals import user_logged_out
from django.db import DEFAULT_DB_ALIAS
from django.dispatch import receiver

from lib.broadcast import end_user_sockets
from people.roles import sync_role_groups


@receiver(user_logged_out, dispatch_uid="people.close_sockets_on_logout")
def close_sockets_on_logout(sender, request, user, **kwargs):
    """Signing out on one device closes that user's live sockets everywhere."""
    if user is not None:
        end_user_sockets(user.pk)


def sync_role_groups_after_migrate(
    sender, *, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs
) -> None:
    """After every ``migrate`` (and test-database creation) the role groups hold exactly
    ``people.roles.ROLE_PERMISSIONS``."""
    # Django creates permissions in its own post_migrate receiver, one app per signal, and
    # this receiver runs before it for the people app and before any app later in
    # INSTALLED_APPS is signalled. Create every app's permissions now (idempotent, as Django's
    # receiver is), so a permission of a model added in this same run can be granted.
    # (Wagtail's extra snippet permissions, publish_* and lock_*, come later still; no role
    # declares one.)
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    sync_role_groups(apps=apps, using=using)
