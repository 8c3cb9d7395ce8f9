"""The learner's home page card of this app (registered in ``assessments.apps``)."""

from __future__ import annotations

from assessments.services import learner_questionnaires


def questionnaires_card(user, person) -> list:
    return learner_questionnaires(user) if person else []
