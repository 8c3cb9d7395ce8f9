"""Cards on a supervised person's home page. Each app registers what it shows there in its
``AppConfig.ready()``; the home page (``cms``, the top layer) asks every card, so no app below
it imports the site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from people.models import Person, User

# name → provider(user, person or None) → the card's data, as the home page template reads it
# (``dashboard.cards.<name>``). ``person`` is None for a learner account without a record.
LearnerCard = Callable[[User, Person | None], Any]
LEARNER_CARDS: dict[str, LearnerCard] = {}


def register_learner_card(name: str, provider: LearnerCard) -> None:
    LEARNER_CARDS[name] = provider


def learner_cards(user: User, person: Person | None) -> dict[str, Any]:
    return {name: provider(user, person) for name, provider in LEARNER_CARDS.items()}
