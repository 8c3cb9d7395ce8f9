from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = _("Learning")

    def ready(self) -> None:
        from learning.certificates import collect_certificate_data
        from learning.enrollment import do_apply_rules_to_persons
        from learning.person_page import register as register_person_page
        from learning.requirements import (
            course_requirement_rows,
            course_requirements,
            course_titles,
            lesson_titles,
        )
        from learning.services import collect_learning_data, dashboard_cards
        from participation.requirements import (
            COURSE,
            LESSON,
            register_requirement_rows,
            register_requirement_titles,
            register_requirements,
        )
        from people.cards import register_learner_card
        from people.privacy import register_person_data
        from people.services import register_after_import

        register_requirements(COURSE, course_requirements)
        register_requirement_rows(COURSE, course_requirement_rows)
        register_requirement_titles(COURSE, course_titles)
        register_requirement_titles(LESSON, lesson_titles)
        register_after_import(do_apply_rules_to_persons)
        register_learner_card("study", dashboard_cards)
        register_person_data(collect_learning_data)
        register_person_data(collect_certificate_data)
        register_person_page()
