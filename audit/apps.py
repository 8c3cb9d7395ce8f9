from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Access log")

    def ready(self) -> None:
        from audit import signals, wagtail_exports  # noqa: F401 - signals connects receivers

        wagtail_exports.install()  # Wagtail's own exports: administrators, logged, formula-safe
