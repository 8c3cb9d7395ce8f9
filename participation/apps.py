from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "participation"
    verbose_name = _("Participation")

    def ready(self) -> None:
        from participation.person_page import register

        register()
