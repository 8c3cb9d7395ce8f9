"""The roll-call policy format, validated with pydantic (unknown fields are errors).

One version says how long a person has to answer, what counts as in time and late, which
confirmations by the officer turn a joined call into a missed one, when the text-message
fallback goes out, when an unanswered follow-up escalates, and how many spot checks each
management category gets (per week or per month), at random times inside working hours, never
two within ``min_gap_hours`` of each other. Administrators edit it at ``/admin/rollcall/policy/``;
each stored ``RollCallTarget`` keeps the version that decided it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATEGORIES = ("strict", "normal", "lenient")
CONFIRMATIONS = ("seen", "not_the_person", "no_video", "other")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpotRule(_Strict):
    count: int = Field(ge=0, le=10)
    per: Literal["week", "month"]


class WorkingHours(_Strict):
    start: dt.time
    end: dt.time
    # ISO weekdays, Monday = 1
    weekdays: tuple[int, ...] = Field(min_length=1, max_length=7)

    @model_validator(mode="after")
    def _check(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working_hours.end must be after working_hours.start")
        if any(not 1 <= day <= 7 for day in self.weekdays) or len(set(self.weekdays)) != len(
            self.weekdays
        ):
            raise ValueError("working_hours.weekdays must be distinct numbers from 1 to 7")
        return self

    def minutes(self) -> int:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return end - start


class RollCallRules(_Strict):
    answer_within_minutes: int = Field(ge=1, le=60)
    late_within_minutes: int = Field(ge=1, le=240)
    sms_after_seconds: int = Field(ge=0, le=3600)
    failed_confirmations: tuple[Literal["not_the_person", "no_video", "other"], ...]
    escalate_after_hours: int = Field(ge=1, le=24 * 14)
    min_gap_hours: int = Field(ge=0, le=24 * 7)
    working_hours: WorkingHours
    spot_checks: dict[Literal["strict", "normal", "lenient"], SpotRule]

    @model_validator(mode="after")
    def _check(self) -> RollCallRules:
        if self.late_within_minutes < self.answer_within_minutes:
            raise ValueError("late_within_minutes must not be less than answer_within_minutes")
        if set(self.spot_checks) != set(CATEGORIES):
            raise ValueError("spot_checks must name strict, normal and lenient")
        return self

    def to_json(self) -> dict:
        return self.model_dump(mode="json")


DEFAULT_RULES = {
    "answer_within_minutes": 5,
    "late_within_minutes": 15,
    "sms_after_seconds": 60,
    "failed_confirmations": ["not_the_person", "no_video"],
    "escalate_after_hours": 24,
    "min_gap_hours": 24,
    "working_hours": {"start": "09:00:00", "end": "17:00:00", "weekdays": [1, 2, 3, 4, 5]},
    "spot_checks": {
        "strict": {"count": 2, "per": "week"},
        "normal": {"count": 1, "per": "week"},
        "lenient": {"count": 2, "per": "month"},
    },
}


class PolicyInvalid(ValueError):
    """The rules do not validate; ``str()`` says where, in the reader's language."""


def parse_rules(data: object) -> RollCallRules:
    """The validated rules, or ``PolicyInvalid`` naming each problem and its place."""
    try:
        return RollCallRules.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or _("rules")
            problems.append(f"{where}: {item['msg']}")
        raise PolicyInvalid("; ".join(problems)) from None


def most_checks(
    per: str, *, start_minute: int, end_minute: int, weekdays: tuple[int, ...], gap_hours: int
) -> int:
    """How many spot checks at most fit one period (a week; a month: its shortest, 28 days,
    whatever weekday it starts on) at whole minutes of working time ``[start, end)`` on
    ``weekdays`` (ISO), at least ``gap_hours`` apart. Greedy from the earliest minute, which is
    optimal for points on a line."""
    if end_minute <= start_minute or not weekdays:
        return 0
    gap = max(gap_hours * 60, 1)
    days = 7 if per == "week" else 28
    best = None
    for first_weekday in range(1, 8) if per != "week" else (1,):
        windows = [
            (day * 1440 + start_minute, day * 1440 + end_minute - 1)
            for day in range(days)
            if (first_weekday - 1 + day) % 7 + 1 in weekdays
        ]
        placed, next_free = 0, 0
        for low, high in windows:
            at = max(low, next_free)
            while at <= high:
                placed += 1
                next_free = at + gap
                at = next_free
        best = placed if best is None else min(best, placed)
    return best or 0
