from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = _("Live lectures")

    def ready(self) -> None:
        from live.cards import lectures_card, makeups_card
        from live.excuses import excuse_lecture
        from live.ledger import (
            lecture_requirement_rows,
            lecture_requirements,
            lecture_titles,
        )
        from live.person_page import register as register_person_page
        from live.services import collect_live_data
        from participation.absences import register_excuse
        from participation.requirements import (
            LECTURE,
            register_requirement_rows,
            register_requirement_titles,
            register_requirements,
        )
        from people.cards import register_learner_card
        from people.privacy import register_person_data

        register_requirements(LECTURE, lecture_requirements)
        register_requirement_rows(LECTURE, lecture_requirement_rows)
        register_requirement_titles(LECTURE, lecture_titles)
        register_excuse(LECTURE, excuse_lecture)
        register_learner_card("lectures", lectures_card)
        register_learner_card("makeups", makeups_card)
        register_person_data(collect_live_data)
        register_person_page()
