from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Individual assistance plans")

    def ready(self) -> None:
        from people.cards import register_learner_card
        from people.privacy import register_person_data
        from plans.cards import plan_card
        from plans.services import collect_plan_data

        register_learner_card("plan", plan_card)
        register_person_data(collect_plan_data)
