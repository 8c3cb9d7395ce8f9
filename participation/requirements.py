"""Participation toward 100%: what each person must do in a month, and how the month stands.

Three explicit kinds of requirement make up a person's month:

* ``quota:<YYYY-MM>``: the month's study quota (``StudyQuota`` of the person's category, in
  proportion to the days of the month under supervision); every minute in the ledger for that
  month counts (lessons, lectures, makeups);
* ``course:<pk>``: each assigned course whose due date falls in the month, met by a completed
  ``course`` entry in that month or before;
* ``lecture:<pk>``: each required lecture of the month whose audience holds the person
  (registered by ``live``, which owns lectures), met by a completed lecture or makeup entry.

An ``excused`` entry for a requirement's key (an approved absence request) excuses it.

``month_status`` decides a month from requirements and ledger entries, as a pure function;
``month_results`` loads both for many persons in a fixed number of queries.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.months import month_start
from participation.models import (
    MonthStatus,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    StudyQuota,
)
from people.models import Person

DEFAULT_QUOTA_HOURS = Decimal("8")

QUOTA, COURSE, LECTURE = "quota", "course", "lecture"

# Sources whose minutes count toward the month's study quota.
STUDY_SOURCES = frozenset(
    {ParticipationSource.LESSON, ParticipationSource.LECTURE, ParticipationSource.MAKEUP}
)


@dataclass(frozen=True)
class Requirement:
    key: str  # "quota:2026-03", "course:12", "lecture:7"
    kind: str  # QUOTA, COURSE or LECTURE
    title: str
    due: dt.date
    minutes: int = 0  # the quota's minutes; 0 for courses and lectures


@dataclass(frozen=True)
class Entry:
    """A ledger row, reduced to what decides a month."""

    key: str
    source: str
    status: str
    minutes: int
    period: dt.date


@dataclass(frozen=True)
class Missing:
    key: str
    kind: str
    title: str
    due: dt.date
    minutes_short: int = 0  # quota only

    @property
    def hours_short(self) -> Decimal:
        return hours(self.minutes_short)


@dataclass(frozen=True)
class MonthResult:
    period: dt.date
    status: str  # a MonthStatus value
    required: int
    met: int
    excused: int
    missing: tuple[Missing, ...]
    study_minutes: int
    quota_minutes: int
    days_left: int

    @property
    def is_complete(self) -> bool:
        return self.status in (MonthStatus.MET, MonthStatus.EXCUSED)

    @property
    def minutes_short(self) -> int:
        return max(0, self.quota_minutes - self.study_minutes)

    @property
    def hours_short(self) -> Decimal:
        return hours(self.minutes_short)

    @property
    def percent(self) -> int:
        """Share of requirements met or excused (100 when there are none)."""
        if not self.required:
            return 100
        return (self.met + self.excused) * 100 // self.required


def hours(minutes: int) -> Decimal:
    """Minutes as hours with one decimal, rounded up (15 minutes short is 0.3 h, never 0.2)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_UP)


def month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def days_left(period: dt.date, today: dt.date) -> int:
    """Days of the month still ahead, today included: 0 once the month is over."""
    end = month_end(period)
    if today > end:
        return 0
    return (end - max(today, period)).days + 1


def month_status(
    requirements: Iterable[Requirement],
    entries: Iterable[Entry],
    *,
    period: dt.date,
    today: dt.date,
) -> MonthResult:
    """How ``period``'s month stands on ``today``: met (every requirement met), excused (every
    requirement met or excused, at least one excused), at risk (something still open and the
    month not over) or missed (something open and the month over).

    Pure: the order of requirements and entries never matters, a requirement or entry given
    twice counts once (the ledger is unique per source, key and month), and a completed entry
    wins over an excused one for the same key."""
    period = month_start(period)
    reqs = {r.key: r for r in sorted(requirements, key=_requirement_order)}
    rows = {(e.source, e.key, e.period): e for e in entries}.values()
    study = sum(e.minutes for e in rows if e.period == period and e.source in STUDY_SOURCES)
    completed = {e.key for e in rows if e.status == ParticipationStatus.COMPLETED}
    excused_keys = {e.key for e in rows if e.status == ParticipationStatus.EXCUSED}
    quota = 0
    met = excused = 0
    missing: list[Missing] = []
    for req in sorted(reqs.values(), key=lambda r: (r.due, r.key)):
        if req.kind == QUOTA:
            quota += req.minutes
            done = study >= req.minutes
        else:
            done = req.key in completed
        if done:
            met += 1
        elif req.key in excused_keys:
            excused += 1
        else:
            short = max(0, req.minutes - study) if req.kind == QUOTA else 0
            missing.append(Missing(req.key, req.kind, req.title, req.due, short))
    left = days_left(period, today)
    if missing:
        status = MonthStatus.AT_RISK if left else MonthStatus.MISSED
    else:
        status = MonthStatus.EXCUSED if excused else MonthStatus.MET
    return MonthResult(
        period=period,
        status=status,
        required=len(reqs),
        met=met,
        excused=excused,
        missing=tuple(missing),
        study_minutes=study,
        quota_minutes=quota,
        days_left=left,
    )


def _requirement_order(req: Requirement) -> tuple:
    # Of two requirements with one key, keep the same one whatever the input order.
    return (req.key, req.kind, req.due, req.minutes, req.title)


# --- Requirements from the database -------------------------------------------------------

# kind → provider(persons, period) → {person pk: [Requirement, ...]}. ``live`` registers
# its kinds when it loads (``learning.apps``: courses, ``live.apps``: lectures), so this layer
# never imports the apps above it.
Provider = Callable[[list[Person], dt.date], dict[int, list[Requirement]]]
PROVIDERS: dict[str, Provider] = {}


def register_requirements(kind: str, provider: Provider) -> None:
    PROVIDERS[kind] = provider


def supervised_days(person: Person, period: dt.date) -> int:
    """Days of ``period``'s month the person is under supervision."""
    first, last = (
        max(period, person.supervision_start),
        min(month_end(period), person.supervision_end),
    )
    return max(0, (last - first).days + 1)


def quota_requirements(persons: list[Person], period: dt.date) -> dict[int, list[Requirement]]:
    """The study quota, in proportion to the supervised days of the month (rounded up to a
    whole minute): someone whose supervision starts on the 20th owes a third of the hours."""
    quotas = dict(StudyQuota.objects.values_list("category", "hours"))
    length = month_end(period).day
    out: dict[int, list[Requirement]] = {}
    titles: dict[int, str] = {}  # one translation per distinct quota, not one per person
    for person in persons:
        days = supervised_days(person, period)
        full = int(quotas.get(person.category, DEFAULT_QUOTA_HOURS) * 60)
        minutes = -(-full * days // length)  # ceiling
        if minutes <= 0:
            continue
        if minutes not in titles:
            titles[minutes] = quota_title(minutes, period)
        title = titles[minutes]
        out[person.pk] = [
            Requirement(f"{QUOTA}:{period:%Y-%m}", QUOTA, title, month_end(period), minutes)
        ]
    return out


def quota_title(minutes: int, period: dt.date) -> str:
    """ "Study for 2.5 hours in December 2026": the month is named, because the title is also
    read in later months (a follow-up of October's quota opened in December)."""
    return _("Study for %(hours)s hours in %(month)s") % {
        "hours": hours(minutes),
        "month": date_format(period, "YEAR_MONTH_FORMAT"),
    }


def pks(persons: list[Person]) -> QuerySet:
    # Large lists go through a subquery, not thousands of bound parameters.
    return Person.objects.filter(pk__in=[p.pk for p in persons]).values("pk")


register_requirements(QUOTA, quota_requirements)


# --- What a stored key names ------------------------------------------------------------------

# kind → lookup(ids) → {id: title}: the current title of what a ledger or follow-up key names
# (``lesson:10``, ``course:3``, ``lecture:7``), for screens whose stored title is blank. The app
# that owns the kind registers it (``learning``: lessons and courses, ``live``: lectures).
TitleLookup = Callable[[list[int]], dict[int, str]]
TITLE_LOOKUPS: dict[str, TitleLookup] = {}

LESSON = "lesson"
GONE_LABELS = {
    LESSON: gettext_lazy("Lesson (deleted)"),
    COURSE: gettext_lazy("Course (deleted)"),
    LECTURE: gettext_lazy("Lecture (deleted)"),
}


def register_requirement_titles(kind: str, lookup: TitleLookup) -> None:
    TITLE_LOOKUPS[kind] = lookup


def requirement_labels(keys: Iterable[str]) -> dict[str, str]:
    """A title a person can read for each key, in the reader's language: the lesson's, course's
    or lecture's title; the month's quota; "Lesson (deleted)" when what it named is gone. One
    query per kind, whatever the number of keys."""
    ids: dict[str, dict[str, int]] = defaultdict(dict)
    out: dict[str, str] = {}
    for key in set(keys):
        kind, _sep, ref = key.partition(":")
        if kind == QUOTA:
            out[key] = _("Study quota of %(month)s") % {"month": ref}
        elif ref.isdigit():
            ids[kind][key] = int(ref)
        else:
            out[key] = str(GONE_LABELS.get(kind, _("Requirement (deleted)")))
    for kind, by_key in ids.items():
        lookup = TITLE_LOOKUPS.get(kind)
        titles = lookup(sorted(set(by_key.values()))) if lookup else {}
        gone = str(GONE_LABELS.get(kind, _("Requirement (deleted)")))
        for key, pk in by_key.items():
            out[key] = titles.get(pk) or gone
    return out


# --- Requirements as SQL rows (``participation.month_sql``) -------------------------------------


@dataclass(frozen=True)
class RequirementRows:
    """A provider's requirements of a month for everyone at once, for ``participation.month_sql``.

    ``querysets`` each select ``r_person``, ``r_key``, ``r_kind`` and ``r_due`` (the same rows
    as the provider's ``Requirement``s, for all persons: the caller narrows them); ``titles``
    maps keys to the titles ``Requirement.title`` carries (asked only for open requirements)."""

    querysets: tuple[QuerySet, ...]
    titles: Callable[[set[str]], dict[str, str]]


# kind → rows(period) → RequirementRows: the set-based twin of ``PROVIDERS`` (the quota is
# computed by ``month_sql`` itself). ``live`` registers lectures next to its provider.
RowsProvider = Callable[[dt.date], RequirementRows]
ROW_PROVIDERS: dict[str, RowsProvider] = {}


def register_requirement_rows(kind: str, provider: RowsProvider) -> None:
    ROW_PROVIDERS[kind] = provider


def in_supervision(persons: QuerySet[Person], period: dt.date) -> QuerySet[Person]:
    """Persons under supervision for at least one day of the month."""
    return persons.filter(supervision_start__lte=month_end(period), supervision_end__gte=period)


def requirements_for(persons: Iterable[Person], period: dt.date) -> dict[int, list[Requirement]]:
    """Every requirement of ``persons`` for ``period``'s month, from every provider."""
    persons = list(persons)
    period = month_start(period)
    out: dict[int, list[Requirement]] = {p.pk: [] for p in persons}
    for provider in PROVIDERS.values():
        for person_id, reqs in provider(persons, period).items():
            out.setdefault(person_id, []).extend(reqs)
    return out


def entries_for(persons: QuerySet[Person] | list[int], period: dt.date) -> dict[int, list[Entry]]:
    """The ledger rows that can decide ``period``: the month's rows, and course completions of
    earlier months (a course finished early meets a later due date)."""
    period = month_start(period)
    out: dict[int, list[Entry]] = defaultdict(list)
    rows = ParticipationRecord.objects.filter(person__in=persons).filter(
        Q(period=period) | Q(source=ParticipationSource.COURSE, period__lt=period)
    )
    for person_id, key, source, status, minutes, row_period in rows.values_list(
        "person_id", "requirement_key", "source", "status", "minutes", "period"
    ):
        out[person_id].append(Entry(key, source, status, minutes, row_period))
    return out


def month_results(
    persons: QuerySet[Person], period: dt.date, today: dt.date | None = None
) -> dict[int, MonthResult]:
    """``month_status`` for every person of ``persons`` under supervision in the month: one
    query for the persons, one for the ledger, one or two per requirement provider."""
    period = month_start(period)
    today = today or timezone.localdate()
    people = list(in_supervision(persons, period).order_by("pk"))
    requirements = requirements_for(people, period)
    entries = entries_for([p.pk for p in people] if len(people) < 500 else persons, period)
    return {
        p.pk: month_status(requirements[p.pk], entries.get(p.pk, ()), period=period, today=today)
        for p in people
    }


def person_month(person: Person, period: dt.date | None = None, today=None) -> MonthResult:
    today = today or timezone.localdate()
    period = month_start(period or today)
    reqs = requirements_for([person], period)[person.pk] if supervised_days(person, period) else []
    entries = entries_for([person.pk], period).get(person.pk, ())
    return month_status(reqs, entries, period=period, today=today)


# --- Writing the ledger -------------------------------------------------------------------


def record_course_completion(person_id: int, course_id: int, title: str, when: dt.datetime) -> None:
    """A course's completion in the ledger, in the month it was completed (idempotent)."""
    ParticipationRecord.objects.update_or_create(
        person_id=person_id,
        source=ParticipationSource.COURSE,
        requirement_key=f"{COURSE}:{course_id}",
        period=month_start(timezone.localdate(when)),
        defaults={"requirement": title[:255], "status": ParticipationStatus.COMPLETED},
    )
