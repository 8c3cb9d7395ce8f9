"""The learner's home page cards of this app (registered in ``live.apps``)."""

from __future__ import annotations

from live.makeups import open_makeups_for_person
from live.services import upcoming_for_person


def lectures_card(user, person) -> list:
    return upcoming_for_person(person) if person else []


def makeups_card(user, person) -> list:
    return open_makeups_for_person(person) if person else []
