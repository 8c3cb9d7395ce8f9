"""Drawing the spot checks of a period (pure: no database, no clock).

``draw(candidates, period, rules, seed, busy)``:

1. A person gets ``rules.spot_checks[category].count`` checks in a period of the rule's kind
   (``per="week"``: an ISO week, Monday to Sunday; ``per="month"``: a calendar month) and none
   in a period of the other kind.
2. Each check is at a whole minute inside working hours (``working_hours.start`` inclusive to
   ``end`` exclusive, local time of ``tz``) on a working day (``weekdays``) of the period.
3. No check at or before ``not_before`` (when given). No two checks of a person, nor a check
   and any instant in ``busy[person]`` (checks drawn in other periods), are less than
   ``min_gap_hours`` apart.
4. The same candidates, period, rules and seed give the same draw; each person's draw depends
   only on the seed and their id, so adding a person changes nobody else's times.
5. When rule 3 leaves no room, the person gets fewer checks (never a check that breaks it).

The caller derives the seed from a secret (``rollcall.tick.period_seed``), so the times are
unpredictable to the persons but reproducible by the server.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from rollcall.policy import RollCallRules


@dataclass(frozen=True)
class Period:
    kind: str  # "week" or "month"
    start: dt.date  # first day
    end: dt.date  # first day after

    @property
    def key(self) -> str:
        if self.kind == "week":
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    def days(self) -> list[dt.date]:
        count = (self.end - self.start).days
        return [self.start + dt.timedelta(days=n) for n in range(count)]


def week_of(day: dt.date) -> Period:
    start = day - dt.timedelta(days=day.isoweekday() - 1)
    return Period("week", start, start + dt.timedelta(days=7))


def month_of(day: dt.date) -> Period:
    start = day.replace(day=1)
    length = calendar.monthrange(start.year, start.month)[1]
    return Period("month", start, start + dt.timedelta(days=length))


@dataclass(frozen=True)
class Candidate:
    person_id: int
    category: str


@dataclass(frozen=True, order=True)
class Draw:
    at: dt.datetime
    person_id: int
    seq: int


def slots(period: Period, rules: RollCallRules, tz: ZoneInfo) -> list[dt.datetime]:
    """Every whole minute of working time in ``period``, in order, as aware datetimes."""
    hours = rules.working_hours
    result = []
    for day in period.days():
        if day.isoweekday() not in hours.weekdays:
            continue
        first = dt.datetime.combine(day, hours.start, tzinfo=tz)
        result.extend(first + dt.timedelta(minutes=n) for n in range(hours.minutes()))
    return result


def _far_enough(at: dt.datetime, taken: Iterable[dt.datetime], gap: dt.timedelta) -> bool:
    return all(abs(at - other) >= gap for other in taken)


def draw(
    candidates: Sequence[Candidate],
    period: Period,
    rules: RollCallRules,
    seed: str,
    busy: Mapping[int, Iterable[dt.datetime]] | None = None,
    tz: ZoneInfo | None = None,
    not_before: dt.datetime | None = None,
) -> list[Draw]:
    """The period's spot checks, sorted by time; see the module docstring for the rules.
    ``not_before``: only slots from then on (a period drawn after it began)."""
    tz = tz or ZoneInfo("Asia/Shanghai")
    busy = busy or {}
    gap = dt.timedelta(hours=rules.min_gap_hours)
    all_slots = slots(period, rules, tz)
    if not_before is not None:
        all_slots = [at for at in all_slots if at > not_before]
    result: list[Draw] = []
    for candidate in sorted(candidates, key=lambda c: c.person_id):
        rule = rules.spot_checks.get(candidate.category)  # type: ignore[call-overload]
        if rule is None or rule.per != period.kind or rule.count == 0 or not all_slots:
            continue
        rng = random.Random(f"{seed}:{period.key}:{candidate.person_id}")  # noqa: S311 - not crypto
        taken = list(busy.get(candidate.person_id, ()))
        for seq in range(1, rule.count + 1):
            free = [at for at in all_slots if _far_enough(at, taken, gap)]
            if not free:
                break
            at = free[rng.randrange(len(free))]
            taken.append(at)
            result.append(Draw(at=at, person_id=candidate.person_id, seq=seq))
    return sorted(result)
