"""The learner home's roll-call card (registered in ``rollcall.apps``): the call ringing now,
if any, and the link to past roll-calls. One query."""

from __future__ import annotations

from django.utils import timezone

from rollcall.models import RollCallTarget


def rollcall_card(user, person) -> dict:
    if person is None:
        return {"open": None, "any": False}
    latest = RollCallTarget.objects.filter(person=person).order_by("-rung_at", "-pk").first()
    is_open = latest is not None and latest.is_open and timezone.now() < latest.closes_at
    return {"open": latest if is_open else None, "any": latest is not None}
