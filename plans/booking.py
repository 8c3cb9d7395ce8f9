"""Counseling calendars: one series per counselor and person, and no double booking. Pure.

1. The counseling interventions of one plan that the same counselor holds are one series
   (``merge_series``): it meets at the shortest interval asked for, until the latest session
   any of them asked for, at most ``MAX_SESSIONS`` times.
2. Sessions are offered at the slot hours of working days (``SLOT_HOURS``, Monday to
   Friday, in the display zone); a session wanted on a weekend moves to the next working day.
3. A slot is taken when any scheduled appointment of the counselor (or of the person) overlaps
   it; the session then takes the next free slot (``first_free_slot``): later that day, then
   the following working days. One counselor, one time, one appointment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_SESSIONS = 52
SLOT_HOURS = (10, 11, 14, 15, 16)  # 10:00 first, as before
SEARCH_DAYS = 366


@dataclass(frozen=True)
class Series:
    interval_days: int
    sessions: int


@dataclass(frozen=True)
class Busy:
    start: dt.datetime
    end: dt.datetime


def merge_series(requests: Iterable[Series]) -> Series | None:
    """One series serving every request (rule 1), or ``None`` for none."""
    requests = [r for r in requests if r.sessions > 0 and r.interval_days > 0]
    if not requests:
        return None
    interval = min(r.interval_days for r in requests)
    span = max(r.interval_days * r.sessions for r in requests)
    return Series(interval_days=interval, sessions=min(MAX_SESSIONS, math.ceil(span / interval)))


def _slots_of(day: dt.date, zone: dt.tzinfo) -> list[dt.datetime]:
    if day.weekday() >= 5:
        return []
    return [dt.datetime.combine(day, dt.time(hour), tzinfo=zone) for hour in SLOT_HOURS]


def _free(start: dt.datetime, length: dt.timedelta, busy: Sequence[Busy]) -> bool:
    end = start + length
    return all(not (start < b.end and b.start < end) for b in busy)


def first_free_slot(wanted: dt.datetime, length: dt.timedelta, busy: Sequence[Busy]) -> dt.datetime:
    """The first free slot at or after ``wanted`` (in its zone): later that day, else on the
    following working days (rules 2 and 3)."""
    zone = wanted.tzinfo
    if zone is None:
        raise ValueError("wanted must be timezone-aware")
    day = wanted.date()
    for offset in range(SEARCH_DAYS):
        for slot in _slots_of(day + dt.timedelta(days=offset), zone):
            if slot >= wanted and _free(slot, length, busy):
                return slot
    raise ValueError("no free slot within a year")


def schedule_series(
    series: Series,
    first_day: dt.date,
    zone: dt.tzinfo,
    length: dt.timedelta,
    busy: Sequence[Busy],
) -> list[dt.datetime]:
    """The times of ``series``: session *n* wanted on ``first_day + (n - 1) * interval``, each at
    the first free slot from then on; the sessions themselves count as busy."""
    taken = list(busy)
    times = []
    for number in range(series.sessions):
        day = first_day + dt.timedelta(days=series.interval_days * number)
        wanted = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        start = first_free_slot(wanted, length, taken)
        times.append(start)
        taken.append(Busy(start, start + length))
    return times
