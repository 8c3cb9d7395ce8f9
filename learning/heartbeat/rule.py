"""The beat decision: what one heartbeat does to its tab's open study session.

A beat is recorded one of two ways (``learning.heartbeat.store``), and both take their
course from ``decide_beat`` alone:

- the **common path** writes a beat only when ``BeatDecision.common``: it extends its tab's
  open session and adds its new seconds to the lesson's stored credit, touching nothing
  else (one call of ``learning_common_beat`` on PostgreSQL, ``common_beat.sql``, the twin of
  this function that ``tests/learning/test_common_beat_sql.py`` checks against it);
- the **general path** acts on every outcome: opens a session, refuses a beat too fast,
  closes a session after a long gap, credits all the person's sessions again, or stores the
  extended credit with completion and the month's ledger minute.

The rules, in the order they are applied:

1. No open session of the tab: the beat opens one (``FIRST_BEAT``).
2. Less than ``MIN_BEAT_INTERVAL`` after the tab's last beat: refused (``TOO_FAST``).
3. More than ``MAX_GAP`` after it: the session stays as it was and the beat opens a new one
   (``NEW_SESSION``, ``participation.crediting.apply_beat``).
4. Otherwise the session's end moves to the beat. Without the lesson's progress row, or when
   ``extended_credit`` cannot tell the new credit alone (tabs overlapping, the cap near, the
   session's first whole second), all the person's sessions are credited again
   (``RECREDIT``); else the lesson's credit is the extended one (``EXTEND``).
5. An extended credit is common unless it crosses the completion line
   (``COMPLETION_SHARE`` of the lesson's length: the quiz and the certificate follow) or
   completes a minute while this month's ledger row of the lesson does not exist yet.

Pure: no database, no clock; ``now`` is the server's receive time.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from participation.crediting import Session, apply_beat, cap_for, extended_credit, whole_seconds

MIN_BEAT_INTERVAL = dt.timedelta(seconds=5)
COMPLETION_SHARE = Decimal("0.8")


class BeatRejected(Exception):
    """A heartbeat that is not credited (``reason`` says why)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProgressRead:
    """The lesson's progress row as a beat reads it."""

    pk: int
    credited_seconds: int
    quiz_passed: bool
    completed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A tab's open session row as a beat reads it, with what the decision needs besides."""

    pk: int
    started_at: dt.datetime
    last_beat_at: dt.datetime
    # Whether another session of the person may cover the seconds the beat adds
    # (``participation.crediting.may_overlap``).
    overlapped: bool
    progress: ProgressRead | None
    # Whether this month's ledger row of the lesson exists; None when it was not read.
    ledger_row: bool | None = None


class Outcome(enum.Enum):
    FIRST_BEAT = "first_beat"
    TOO_FAST = "too_fast"
    NEW_SESSION = "new_session"
    RECREDIT = "recredit"
    EXTEND = "extend"


@dataclass(frozen=True, slots=True)
class BeatDecision:
    outcome: Outcome
    # RECREDIT and EXTEND: the session's whole seconds once its end has moved to the beat.
    span_seconds: int = 0
    # EXTEND: the lesson's credit after the beat, and what changes with it.
    credited_seconds: int = 0
    completes: bool = False  # crosses the completion line
    new_minute: bool = False  # completes a minute: the month's ledger row changes
    common: bool = False  # the common path may record it (rule 5)


def decide_beat(
    session: OpenSession | None,
    lesson_id: int,
    tab: str,
    expected_seconds: int,
    now: dt.datetime,
) -> BeatDecision:
    """What a beat of ``tab`` on lesson ``lesson_id`` (``expected_seconds`` long) received at
    ``now`` does, given the tab's open session as read (None: there is none)."""
    if session is None:
        return BeatDecision(Outcome.FIRST_BEAT)
    if now - session.last_beat_at < MIN_BEAT_INTERVAL:
        return BeatDecision(Outcome.TOO_FAST)
    before = Session(lesson_id, tab, session.started_at, session.last_beat_at)
    after, closed = apply_beat(before, {"lesson": lesson_id, "tab": tab, "at": now})
    if closed is not None:
        return BeatDecision(Outcome.NEW_SESSION)
    start, end = whole_seconds(after)
    progress = session.progress
    seconds = None
    if progress is not None:
        cap = cap_for(expected_seconds)
        old = progress.credited_seconds
        seconds = extended_credit(before, after, old, cap, session.overlapped)
    if seconds is None:
        return BeatDecision(Outcome.RECREDIT, span_seconds=end - start)
    line = COMPLETION_SHARE * expected_seconds
    completes = progress.completed_at is None and seconds >= line and old < line
    new_minute = old // 60 != seconds // 60
    return BeatDecision(
        Outcome.EXTEND,
        span_seconds=end - start,
        credited_seconds=seconds,
        completes=completes,
        new_minute=new_minute,
        common=not completes and (not new_minute or bool(session.ledger_row)),
    )
