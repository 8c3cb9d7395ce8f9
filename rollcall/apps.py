from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RollcallConfig(AppConfig):
    name = "rollcall"
    verbose_name = _("Video roll-calls")

    def ready(self) -> None:
        from live.rooms import register_room_owner
        from participation.followup import register_follow_up_owner
        from participation.office_figures import register_office_figures
        from people.cards import register_learner_card
        from people.privacy import register_person_data
        from rollcall.cards import rollcall_card
        from rollcall.figures import KEY as FIGURES_KEY
        from rollcall.figures import figure_tables
        from rollcall.person_page import register as register_person_page
        from rollcall.presence import ROOM_OWNER
        from rollcall.services import FOLLOW_UP_PREFIX, collect_rollcall_data

        register_room_owner(ROOM_OWNER)
        register_follow_up_owner(FOLLOW_UP_PREFIX)
        register_learner_card("rollcall", rollcall_card)
        register_person_data(collect_rollcall_data)
        register_person_page()
        register_office_figures(FIGURES_KEY, figure_tables)
