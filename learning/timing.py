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

Properties (tested in ``tests/learning/test_timing.py``): the result does not depend on the
order or duplication of beats; the total never exceeds ``max(at) - min(at)``; dropping beats
never increases the total, and dropping beats of lesson X never increases X's credit. Dropping a
beat of lesson A *can* increase lesson B's credit, and no rule satisfying 3 can prevent it: with
A and B both covering the same 15 s, A + B = 15, yet dropping A's beat leaves B alone with 15 s
and dropping B's beat leaves A with 15 s, so per-lesson monotonicity would need A + B >= 30.
Why the total is monotone: it is a maximum flow, and dropping a beat only shrinks sessions, that
is, removes edges and source capacity from the network. A cap-blind tiebreak (earliest lesson
takes the overlap, then cap) would break even this: a capped lesson would swallow time another
lesson could have used, and dropping its beats would hand that time back.

Pure Python: the per-tab sessions are what ``learning.sessions`` keeps incrementally.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
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
