"""What rollcall shows on the staff person page (``people.person_page``): the latest calls
and a "call now" button, for those who make calls (officers, administrators). Two queries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from people.person_page import Visit, register_section
from rollcall.models import TargetState
from rollcall.services import history_for, may_start_calls

RECENT = 5


def rollcall_section(visit: Visit) -> dict | None:
    if not may_start_calls(visit.viewer):
        return None
    person = visit.person
    recent = list(history_for(person)[:RECENT])
    return {
        "person": person,
        "recent": recent,
        "ringing": any(t.state == TargetState.RINGING for t in recent),
    }


def register() -> None:
    register_section(
        "rollcall",
        450,
        gettext_lazy("Video roll-calls"),
        rollcall_section,
        "rollcall/person_page/rollcall.html",
    )
