from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Psychological assessments")

    def ready(self) -> None:
        from assessments.cards import questionnaires_card
        from assessments.person_page import register as register_person_page
        from assessments.report import result_names
        from assessments.services import collect_assessment_data
        from audit.labels import register_object_namer
        from people.cards import register_learner_card
        from people.privacy import register_person_data

        register_learner_card("questionnaires", questionnaires_card)
        register_person_data(collect_assessment_data)
        register_person_page()
        register_object_namer("assessments.result", result_names)
