"""Phases of supervision (初期 / 中期 / 末期) and the review schedule. Pure date arithmetic.

The initial phase is the first three months of supervision and the final phase the last
three, each shortened to a third of the period for short sentences; the middle phase is what
lies between. Reviews fall every three months after approval, and earlier at a phase change.
"""

from __future__ import annotations

import datetime as dt

from lib.months import add_months
from plans.models import Phase

PHASE_DAYS = 90
REVIEW_MONTHS = 3


def phase_boundaries(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """(first day of the middle phase, first day of the final phase)."""
    total = max((end - start).days, 0)
    length = dt.timedelta(days=min(PHASE_DAYS, total // 3))
    return start + length, end - length


def phase_for(start: dt.date, end: dt.date, day: dt.date) -> str:
    middle, final = phase_boundaries(start, end)
    if day >= final:
        return Phase.FINAL
    if day >= middle:
        return Phase.MIDDLE
    return Phase.INITIAL


def next_phase_change(start: dt.date, end: dt.date, day: dt.date) -> dt.date | None:
    """The first phase boundary after ``day``, or ``None`` once in the final phase."""
    for boundary in phase_boundaries(start, end):
        if boundary > day:
            return boundary
    return None


def next_review(start: dt.date, end: dt.date, after: dt.date) -> tuple[dt.date, str]:
    """(date, reason) of the review after ``after``: three months on, or the next phase change
    if that comes first. The reason is a ``ReviewReason`` value."""
    regular = add_months(after, REVIEW_MONTHS)
    change = next_phase_change(start, end, after)
    if change is not None and change <= regular:
        return change, "phase_change"
    return regular, "scheduled"
