from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Individual assistance plans")

    def ready(self) -> None:
        from assessments.taking import register_review_signed
        from plans.drafting import on_review_signed

        register_review_signed(on_review_signed)
