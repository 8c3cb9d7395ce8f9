"""Incremental study sessions: `timing.credit` without keeping a row per beat.

The server keeps one row per session (a run of one (lesson, tab)'s beats with gaps <= MAX_GAP):
a beat either moves the open row's ``last_beat_at`` forward (one UPDATE) or, after a longer gap,
leaves that row closed for good and opens a new one (one INSERT). ``apply_beat`` is that step as
a pure function; ``StudyLog`` plays the table for one person; ``credited`` is the read-time merge.

Contract: if every tab's beats arrive in non-decreasing receive time (true for server stamps),
``credited(log, expected) == timing.credit(beats, expected)``. A beat no later than its tab's
last accepted beat (a duplicate, or one that arrives out of order) is ignored, so it can never
increase credit; the UPDATE guards the same way with ``WHERE last_beat_at < %(at)s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from learning.timing import MAX_GAP_DELTA, Beat, LessonId, Session, aware, credit_sessions


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
