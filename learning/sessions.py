"""Incremental study sessions: `timing.credit` without keeping a row per beat.

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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from learning.timing import MAX_GAP_DELTA, Beat, LessonId, Session, aware, credit_sessions

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


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
