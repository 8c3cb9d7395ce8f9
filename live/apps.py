from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = _("Live lectures")

    def ready(self) -> None:
        from learning.participation import (
            LECTURE,
            register_requirement_rows,
            register_requirements,
        )
        from live.ledger import lecture_requirement_rows, lecture_requirements

        register_requirements(LECTURE, lecture_requirements)
        register_requirement_rows(LECTURE, lecture_requirement_rows)
