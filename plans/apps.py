from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Individual assistance plans")

    def ready(self) -> None:
        from assessments.taking import register_review_signed
        from people.cards import register_learner_card
        from people.privacy import register_person_data
        from plans.cards import plan_card
        from plans.drafting import on_review_signed
        from plans.export import collect_plan_data
        from plans.person_page import register as register_person_page

        register_review_signed(on_review_signed)
        register_learner_card("plan", plan_card)
        register_person_data(collect_plan_data)
        register_person_page()
