from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People and offices")

    def ready(self) -> None:
        # people.middleware connects the user_logged_in receiver that starts the idle clock.
        import people.middleware  # noqa: F401
        from people import signals  # noqa: F401 - closes sockets on sign-out

        post_migrate.connect(
            signals.sync_role_groups_after_migrate,
            sender=self,
            dispatch_uid="people.sync_role_groups_after_migrate",
        )
