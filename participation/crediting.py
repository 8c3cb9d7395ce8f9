"""Verified study time: how heartbeats become credited seconds.

The lesson page sends a heartbeat every 15 s while it is visible (and, for video, playing);
the server stamps each beat with its own receive time. ``credit(beats, expected)`` turns one
person's beats into credited seconds per lesson. The rule, exactly:

1. **Sessions.** Beats are grouped by (lesson, tab); duplicates (same lesson, tab and instant)
   count once. A session is a maximal run of one (lesson, tab)'s beats in which consecutive
   beats are at most ``MAX_GAP`` seconds apart (exactly 30 s still joins; a longer gap means the
   tab was hidden or asleep and credits nothing). A session covers ``[first beat, last beat]``.
   Extra beats inside a session (faster than every 15 s) therefore add nothing.
2. **Whole seconds.** A session covers the whole (UTC epoch) seconds lying entirely inside it,
   ``[ceil(first), floor(last)]``. This loses under 2 s per session, never per beat, and keeps
   every credit an exact integer no larger than the time the beats span.
3. **One lesson at a time.** An instant covered by several sessions (two tabs, two devices,
   two lessons) is credited at most once in total, to one lesson whose session covers it.
4. **Cap.** A lesson is credited at most ``floor(expected * CAP_FACTOR)`` seconds; a lesson
   missing from ``expected`` is capped at 0.
5. **Who gets an overlapped instant.** Rules 3 and 4 are applied together, not one after the
   other: the total credited is the *largest* total achievable by giving each covered instant
   to at most one lesson covering it without exceeding any cap (a maximum flow). Lessons are
   then served in priority order -- the lesson whose first session started earliest, ties by
   lesson id -- each lesson receiving as much as it can while every earlier lesson keeps its
   credit (instants may be moved between lessons that both cover them). So the lesson opened
   first keeps overlapped time, unless it is already at its cap, in which case the overlap goes
   to the next lesson instead of being lost.

Properties (tested in ``tests/participation/test_timing.py``): the result does not depend on the
order or duplication of beats; the total never exceeds ``max(at) - min(at)``; dropping beats
never increases the total, and dropping beats of lesson X never increases X's credit. Dropping a
beat of lesson A *can* increase lesson B's credit, and no rule satisfying 3 can prevent it: with
A and B both covering the same 15 s, A + B = 15, yet dropping A's beat leaves B alone with 15 s
and dropping B's beat leaves A with 15 s, so per-lesson monotonicity would need A + B >= 30.
Why the total is monotone: it is a maximum flow, and dropping a beat only shrinks sessions, that
is, removes edges and source capacity from the network. A cap-blind tiebreak (earliest lesson
takes the overlap, then cap) would break even this: a capped lesson would swallow time another
lesson could have used, and dropping its beats would hand that time back.

Pure Python: the per-tab sessions are what the second half of this module keeps incrementally.

## Incremental study sessions

Incremental study sessions: `timing.credit` without keeping a row per beat.

The server keeps one row per session (a run of one (lesson, tab)'s beats with gaps <= MAX_GAP):
a beat either moves the open row's ``last_beat_at`` forward (one UPDATE) or, after a longer gap,
leaves that row closed for good and opens a new one (one INSERT). ``apply_beat`` is that step as
a pure function; ``StudyLog`` plays the table for one person; ``credited`` is the read-time merge.

Contract: if every tab's beats arrive in non-decreasing receive time (true for server stamps),
``credited(log, expected) == timing.credit(beats, expected)``. A beat no later than its tab's
last accepted beat (a duplicate, or one that arrives out of order) is ignored, so it can never
increase credit; the UPDATE guards the same way with ``WHERE last_beat_at < %(at)s``.

Most beats need no merge at all: ``extended_credit`` says when a beat that extends its session
only adds its new seconds to its own lesson's stored credit (see its docstring for the proof),
so the server re-credits the person's sessions only when tabs overlap, a cap is near, or a
session gets its first whole second.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import TypeAlias, TypedDict

MAX_GAP = 30
CAP_FACTOR = 1.5

MAX_GAP_DELTA = timedelta(seconds=MAX_GAP)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)

LessonId: TypeAlias = Hashable


class Beat(TypedDict):
    lesson: LessonId
    tab: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A run of one (lesson, tab)'s beats with gaps <= MAX_GAP; what a session row holds."""

    lesson: LessonId
    tab: str
    started_at: datetime
    last_beat_at: datetime


def aware(at: datetime) -> datetime:
    """Return ``at`` if it is an aware datetime; raise ValueError otherwise."""
    if not isinstance(at, datetime):
        raise ValueError(f"beat time must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"beat time must be timezone-aware, got naive {at.isoformat()}")
    return at


def sessions_of(beats: Iterable[Beat]) -> list[Session]:
    """Split one person's beats into sessions (rule 1), in no particular order."""
    stamps: dict[tuple[LessonId, str], set[datetime]] = defaultdict(set)
    for beat in beats:
        stamps[beat["lesson"], beat["tab"]].add(aware(beat["at"]))
    sessions = []
    for (lesson, tab), times in stamps.items():
        ordered = sorted(times)
        start = previous = ordered[0]
        for at in ordered[1:]:
            if at - previous > MAX_GAP_DELTA:
                sessions.append(Session(lesson, tab, start, previous))
                start = at
            previous = at
        sessions.append(Session(lesson, tab, start, previous))
    return sessions


def credit(beats: Iterable[Beat], expected: Mapping[LessonId, float]) -> dict[LessonId, int]:
    """Credited seconds per lesson for one person's beats (server receive times).

    Every lesson that has a beat is in the result; see the module docstring for the rule.
    Raises ValueError on a naive datetime.
    """
    return credit_sessions(sessions_of(beats), expected)


def credit_sessions(
    sessions: Iterable[Session], expected: Mapping[LessonId, float]
) -> dict[LessonId, int]:
    """Rules 2-5 applied to one person's sessions: the read-time merge of session rows."""
    result: dict[LessonId, int] = {}
    caps: dict[LessonId, int] = {}
    spans: list[tuple[int, int, LessonId]] = []
    for session in sessions:
        result.setdefault(session.lesson, 0)
        started, last = aware(session.started_at), aware(session.last_beat_at)
        if last < started:
            raise ValueError(f"session ends before it starts: {session!r}")
        if session.lesson not in caps:
            caps[session.lesson] = cap_for(expected.get(session.lesson))
        start = -(-(started - _EPOCH) // _SECOND)  # ceil to a whole second
        end = (last - _EPOCH) // _SECOND
        if caps[session.lesson] > 0 and start < end:
            spans.append((start, end, session.lesson))
    result.update(_allocate(spans, caps))
    return result


def cap_for(expected_seconds: float | None) -> int:
    """Most seconds a lesson can be credited: floor(expected * CAP_FACTOR), 0 if unknown."""
    if expected_seconds is None:
        return 0
    return max(0, math.floor(Fraction(expected_seconds) * Fraction(CAP_FACTOR)))


def _allocate(
    spans: list[tuple[int, int, LessonId]], caps: Mapping[LessonId, int]
) -> dict[LessonId, int]:
    """Rules 3 and 5: split covered seconds among lessons (see the module docstring)."""
    deltas: dict[int, dict[LessonId, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[LessonId, int] = {}
    for start, end, lesson in spans:
        deltas[start][lesson] += 1
        deltas[end][lesson] -= 1
        first[lesson] = min(first.get(lesson, start), start)
    # Seconds covered by the same set of lessons are interchangeable: one pool per set.
    pools: dict[frozenset[LessonId], int] = defaultdict(int)
    covering: dict[LessonId, int] = {}
    for at, following in pairwise(sorted(deltas)):
        for lesson, delta in deltas[at].items():
            covering[lesson] = covering.get(lesson, 0) + delta
            if not covering[lesson]:
                del covering[lesson]
        if covering:
            pools[frozenset(covering)] += following - at
    order = sorted(first, key=lambda lesson: (first[lesson], lesson))
    return _greedy_max_flow(list(pools.items()), caps, order)


def _greedy_max_flow(
    pools: list[tuple[frozenset[LessonId], int]],
    caps: Mapping[LessonId, int],
    order: list[LessonId],
) -> dict[LessonId, int]:
    """Add lessons in ``order``, each time augmenting the flow pools -> lessons to a maximum.

    Augmenting paths never lower a lesson's load, and the earlier lessons' loads already sum
    to the maximum for them alone, so each phase's new flow all reaches the lesson just added:
    its load is max_flow(first k lessons) - max_flow(first k-1), which does not depend on which
    augmenting paths were found.
    """
    free = [size for _, size in pools]  # seconds of each pool not yet given to a lesson
    given: list[dict[LessonId, int]] = [{} for _ in pools]  # pool -> lesson -> seconds
    pools_of: dict[LessonId, list[int]] = defaultdict(list)
    for i, (lessons, _) in enumerate(pools):
        for lesson in lessons:
            pools_of[lesson].append(i)
    load: dict[LessonId, int] = {}
    for target in order:
        load[target] = 0
        while load[target] < caps[target]:
            path = _augmenting_path(pools_of, free, given, target)
            if path is None:
                break
            pool_ids, lessons = path  # pool_ids[i] gives to lessons[i], which releases [i+1]
            amount = min(caps[target] - load[target], free[pool_ids[0]])
            for lesson, released in zip(lessons, pool_ids[1:], strict=False):
                amount = min(amount, given[released][lesson])
            free[pool_ids[0]] -= amount
            for i, lesson in enumerate(lessons):
                given[pool_ids[i]][lesson] = given[pool_ids[i]].get(lesson, 0) + amount
                if i + 1 < len(pool_ids):
                    released = pool_ids[i + 1]
                    given[released][lesson] -= amount
                    if not given[released][lesson]:
                        del given[released][lesson]
            load[target] += amount
    return load


def _augmenting_path(
    pools_of: Mapping[LessonId, list[int]],
    free: list[int],
    given: list[dict[LessonId, int]],
    target: LessonId,
) -> tuple[list[int], list[LessonId]] | None:
    """Shortest chain: a pool with free seconds -> lesson -> a pool it releases -> ... -> target.

    Searched backwards from ``target``: ``step[pool] = (lesson, released)`` means the chain
    gives ``pool`` to ``lesson``, which releases pool ``released`` (None for the target).
    """
    step: dict[int, tuple[LessonId, int | None]] = {}
    frontier = []
    for pool in pools_of[target]:
        step[pool] = (target, None)
        if free[pool]:
            return _unwind(step, pool)
        frontier.append(pool)
    while frontier:
        next_frontier = []
        for pool in frontier:
            for holder in given[pool]:
                if holder == target:
                    continue
                for other in pools_of[holder]:
                    if other in step:
                        continue
                    step[other] = (holder, pool)
                    if free[other]:
                        return _unwind(step, other)
                    next_frontier.append(other)
        frontier = next_frontier
    return None


def _unwind(
    step: Mapping[int, tuple[LessonId, int | None]], start: int
) -> tuple[list[int], list[LessonId]]:
    pool_ids: list[int] = [start]
    lessons: list[LessonId] = []
    pool: int | None = start
    while pool is not None:
        lesson, pool = step[pool]
        lessons.append(lesson)
        if pool is not None:
            pool_ids.append(pool)
    return pool_ids, lessons


# --- Incremental study sessions ------------------------------------------------------------


def apply_beat(session: Session | None, beat: Beat) -> tuple[Session, Session | None]:
    """Apply one beat to its (lesson, tab)'s open session (None before the tab's first beat).

    Returns ``(open session after the beat, session the beat closed or None)``: a gap over
    MAX_GAP closes ``session`` and opens a new one. A stale or duplicate beat returns
    ``(session, None)`` unchanged. Raises ValueError on a naive time or a beat of another tab.
    """
    at = aware(beat["at"])
    if session is None:
        return Session(beat["lesson"], beat["tab"], at, at), None
    if (session.lesson, session.tab) != (beat["lesson"], beat["tab"]):
        raise ValueError(f"beat for {beat['lesson']!r}/{beat['tab']!r} applied to {session!r}")
    if at <= session.last_beat_at:
        return session, None
    if at - session.last_beat_at <= MAX_GAP_DELTA:
        return replace(session, last_beat_at=at), None
    return Session(session.lesson, session.tab, at, at), session


@dataclass(slots=True)
class StudyLog:
    """One person's session rows: the open one per (lesson, tab), and the closed ones."""

    open: dict[tuple[LessonId, str], Session] = field(default_factory=dict)
    closed: list[Session] = field(default_factory=list)

    def record(self, beat: Beat) -> None:
        """Apply one beat in arrival order: O(1), touching one open row (plus one append)."""
        key = (beat["lesson"], beat["tab"])
        self.open[key], closed = apply_beat(self.open.get(key), beat)
        if closed is not None:
            self.closed.append(closed)

    def sessions(self) -> Iterator[Session]:
        yield from self.closed
        yield from self.open.values()


def replay(beats: Iterable[Beat]) -> StudyLog:
    """A log with ``beats`` recorded in the order given."""
    log = StudyLog()
    for beat in beats:
        log.record(beat)
    return log


def credited(log: StudyLog, expected: Mapping[LessonId, float]) -> dict[LessonId, int]:
    """Credited seconds per lesson from the session rows; equals ``timing.credit`` (see above)."""
    return credit_sessions(log.sessions(), expected)


def whole_seconds(session: Session) -> tuple[int, int]:
    """The whole (UTC epoch) seconds ``[start, end)`` a session covers (timing rule 2)."""
    start = -(-(aware(session.started_at) - _EPOCH) // _SECOND)
    return start, max(start, (aware(session.last_beat_at) - _EPOCH) // _SECOND)


def seconds_added(before: Session, after: Session) -> tuple[int, int]:
    """The whole seconds ``[start, end)`` that ``after`` covers and ``before`` does not, where
    ``after`` is ``before`` extended by a later beat (``start == end``: none)."""
    return whole_seconds(before)[1], whole_seconds(after)[1]


def may_overlap(other: Session, before: Session, after: Session) -> bool:
    """Whether ``other`` may cover one of the seconds that ``after`` adds to ``before``.

    A cheap superset of the exact test, and the one the database runs: a session covering a
    second in ``seconds_added(before, after)`` starts before ``after`` ends and ends after
    ``before`` does (``floor(other end) > floor(before end)`` implies ``other end > before
    end``)."""
    return other.started_at < after.last_beat_at and other.last_beat_at > before.last_beat_at


def extended_credit(
    before: Session, after: Session, credited: int, cap: int, overlapped: bool
) -> int | None:
    """The lesson's credit once its session ``before`` has become ``after``, when no other
    lesson's credit changes; None when the person's sessions must be credited again.

    ``credited`` is the lesson's credit before the beat, ``cap`` its ``timing.cap_for``, and
    ``overlapped`` whether any other session of the person (any lesson or tab) may cover the
    added seconds (``may_overlap``). Why this equals ``timing.credit`` after the beat: the added
    seconds form a pool only this lesson covers, and the lesson's priority (its first session
    start) is unchanged because ``before`` already covered a second. In the priority-ordered
    maximum flow of ``timing``, every prefix of lessons holding this one has a maximum flow in
    which it carries ``credited``; with ``credited + added <= cap`` the new pool adds exactly
    ``added`` to each such prefix (no more: that is the pool's size), so this lesson gains
    ``added`` and every other lesson's share is unchanged.
    """
    start, end = seconds_added(before, after)
    if start == end:
        return credited
    first, old_end = whole_seconds(before)
    if overlapped or first == old_end or credited + (end - start) > cap:
        return None
    return credited + (end - start)
