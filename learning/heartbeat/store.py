"""Recording a heartbeat: the study session rows, the lesson's credit, completion and this
month's ledger row.

``do_record_heartbeat`` records any beat. It tries the common path first
(``record_common_beat``), which writes only a beat that ``rule.decide_beat`` calls common;
the general path (``record_general_beat``) takes every other outcome of the same decision.
Study time is credited by the rule in ``participation.crediting`` from ``StudySession``
rows, the database form of its study log (one UPDATE per beat on the tab's open row).

A beat that extends its tab's session costs four statements on the general path (three on
SQLite, which needs no row lock): lock the person, read the session with the lesson's
progress, move the session's end, store the lesson's new credit; plus the ledger when a
minute is completed. The common path is one call of ``learning_common_beat`` on PostgreSQL
(``common_beat.sql``), or the same read and writes in one IMMEDIATE transaction on SQLite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from courses.models import LessonPage
from learning.certificates import issue_if_course_complete
from learning.heartbeat.access import AccessRow, CheckedSession
from learning.heartbeat.rule import (
    COMPLETION_SHARE,
    MIN_BEAT_INTERVAL,
    BeatDecision,
    BeatRejected,
    OpenSession,
    Outcome,
    ProgressRead,
    decide_beat,
)
from learning.heartbeat.statements import (
    COMMON_BEAT_PG_SQL,
    EXTEND_SESSION_SQL,
    LOCK_PERSON_PG_SQL,
    LOCK_PERSON_SQL,
    OPEN_SESSION_SQL,
    OPEN_SESSION_WITH_LEDGER_SQL,
    SESSION_BEAT_PG_SQL,
    STORE_CREDIT_SQL,
    UPDATE_LEDGER_SQL,
    access_params,
    prepared_cursor,
)
from learning.models import LessonProgress, StudySession
from lib.months import month_start
from participation.crediting import MAX_GAP_DELTA, Session, cap_for, credit_sessions
from participation.models import ParticipationRecord, ParticipationSource, ParticipationStatus
from people.models import Person

_PROGRESS_FIELDS = [
    "id",
    "person_id",
    "lesson_id",
    "credited_seconds",
    "quiz_passed",
    "completed_at",
]


def do_record_heartbeat(
    person: Person, lesson: LessonPage, tab: str, now: dt.datetime | None = None
) -> LessonProgress:
    """Record one heartbeat received at ``now`` (server clock) and return the lesson's progress.

    Raises BeatRejected("too_fast") for a beat less than 5 s after the tab's previous one;
    nothing is written then. The caller has checked enrollment
    (``access.access_lesson_for_heartbeat``); only the keys and ``lesson.expected_seconds``
    are read. A changed expected length takes effect when all the person's sessions are
    credited again, that is, from the next sitting at the latest.
    """
    now = now or timezone.now()
    common = record_common_beat(person.pk, lesson.pk, lesson.expected_seconds, tab, now)
    if common is not None:
        return common.as_progress(person.pk, lesson.pk)
    return record_general_beat(person, lesson, tab, now)


def record_general_beat(
    person: Person, lesson: LessonPage, tab: str, now: dt.datetime
) -> LessonProgress:
    """``do_record_heartbeat`` for any outcome of ``rule.decide_beat``, through the ORM where
    rows are created; all the person's sessions are credited again (``_recompute_credit``)
    only when the decision says so."""
    with transaction.atomic():
        _lock_person(person)
        with connection.cursor() as cursor:
            cursor.execute(
                OPEN_SESSION_SQL,
                [connection.ops.adapt_datetimefield_value(now), person.pk, lesson.pk, tab],
            )
            session = _open_session(cursor.fetchone())
        decision = decide_beat(session, lesson.pk, tab, lesson.expected_seconds, now)
        if decision.outcome is Outcome.FIRST_BEAT:
            # The tab's first beat covers no whole second yet: no credit changes.
            StudySession.objects.create(
                person=person, lesson=lesson, tab=tab, started_at=now, last_beat_at=now
            )
            progress, created = LessonProgress.objects.get_or_create(person=person, lesson=lesson)
            if created:
                _credit_changed(progress, None, lesson.expected_seconds, now)
            return progress
        if decision.outcome is Outcome.TOO_FAST:
            raise BeatRejected("too_fast")
        progress = _progress_of(session, person, lesson)
        if decision.outcome is Outcome.NEW_SESSION:
            # The tab slept longer than MAX_GAP: its session stays as it was, the new one
            # covers no whole second yet, so no credit changes.
            StudySession.objects.filter(pk=session.pk).update(is_open=False)
            StudySession.objects.create(
                person=person, lesson=lesson, tab=tab, started_at=now, last_beat_at=now
            )
            return progress or _recompute_credit(person, lesson, now)
        at = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.execute(EXTEND_SESSION_SQL, [at, decision.span_seconds, session.pk, at])
        if decision.outcome is Outcome.RECREDIT:
            return _recompute_credit(person, lesson, now)
        if decision.credited_seconds != progress.credited_seconds:
            old = progress.credited_seconds
            progress.credited_seconds = decision.credited_seconds
            with connection.cursor() as cursor:
                changed = connection.ops.adapt_datetimefield_value(timezone.now())
                cursor.execute(STORE_CREDIT_SQL, [progress.credited_seconds, changed, progress.pk])
            _credit_changed(progress, old, lesson.expected_seconds, now)
    return progress


# --- The common path --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeatAnswer:
    """A lesson's progress after a common beat (``record_common_beat``)."""

    progress_id: int
    credited_seconds: int
    quiz_passed: bool
    completed_at: dt.datetime | None

    def as_progress(self, person_id: int, lesson_id: int) -> LessonProgress:
        return LessonProgress.from_db(
            connection.alias,
            _PROGRESS_FIELDS,
            [
                self.progress_id,
                person_id,
                lesson_id,
                self.credited_seconds,
                self.quiz_passed,
                self.completed_at,
            ],
        )


class _GeneralPath(Exception):
    """The beat is not a common one: roll back, ``record_general_beat`` records it."""


def record_common_beat(
    person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> BeatAnswer | None:
    """Record a beat that ``rule.decide_beat`` calls common; None (nothing written) for any
    other, which ``record_general_beat`` records. Raises BeatRejected("too_fast") like it.

    SQLite runs the decision in process (``record_common_beat_in_process``). On PostgreSQL
    it runs in the database, ``learning_common_beat``: one prepared call, one round trip (a
    transaction of six statements was eight round trips through the ORM, and cost three
    times the CPU in two pipelined batches)."""
    if connection.vendor != "postgresql":
        return record_common_beat_in_process(person_id, lesson_id, expected_seconds, tab, now)
    if connection.in_atomic_block:  # a caller's transaction (tests): keep it usable
        with transaction.atomic():
            return record_common_beat_in_database(person_id, lesson_id, expected_seconds, tab, now)
    return record_common_beat_in_database(person_id, lesson_id, expected_seconds, tab, now)


def record_common_beat_in_process(
    person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> BeatAnswer | None:
    """``record_common_beat`` with the decision in Python: the tab's open session read with
    the ledger row, ``rule.decide_beat``, then the writes, in one transaction (on SQLite an
    IMMEDIATE one, which already holds the one write lock). The reference that
    ``learning_common_beat`` is checked against."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                OPEN_SESSION_WITH_LEDGER_SQL,
                _open_session_with_ledger_params(person_id, lesson_id, tab, now),
            )
            session = _open_session(cursor.fetchone())
            decision = decide_beat(session, lesson_id, tab, expected_seconds, now)
            if decision.outcome is Outcome.TOO_FAST:
                raise BeatRejected("too_fast")
            if not decision.common:
                raise _GeneralPath
            _write_common_beat(cursor, decision, session, person_id, lesson_id, now)
    except _GeneralPath:
        return None
    progress = session.progress
    return BeatAnswer(
        progress.pk, decision.credited_seconds, progress.quiz_passed, progress.completed_at
    )


def _open_session_with_ledger_params(person_id: int, lesson_id: int, tab: str, now) -> list:
    """The parameters of ``statements.OPEN_SESSION_WITH_LEDGER_SQL`` for a beat at ``now``."""
    ops = connection.ops
    return [
        ops.adapt_datetimefield_value(now),
        person_id,
        ParticipationSource.LESSON.value,
        f"lesson:{lesson_id}",
        ops.adapt_datefield_value(month_start(timezone.localdate(now))),
        person_id,
        lesson_id,
        tab,
    ]


def _write_common_beat(
    cursor,
    decision: BeatDecision,
    session: OpenSession,
    person_id: int,
    lesson_id: int,
    now: dt.datetime,
) -> None:
    """A common beat's writes: the session's end, and when the credit moved the credit and
    (a minute completed) this month's ledger row, which exists (``decision.common``)."""
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    cursor.execute(EXTEND_SESSION_SQL, [at, decision.span_seconds, session.pk, at])
    progress = session.progress
    seconds = decision.credited_seconds
    if seconds == progress.credited_seconds:
        return
    changed = ops.adapt_datetimefield_value(timezone.now())
    cursor.execute(STORE_CREDIT_SQL, [seconds, changed, progress.pk])
    if not decision.new_minute:
        return
    status = (
        ParticipationStatus.IN_PROGRESS
        if progress.completed_at is None
        else ParticipationStatus.COMPLETED
    )
    period = ops.adapt_datefield_value(month_start(timezone.localdate(now)))
    row = [person_id, ParticipationSource.LESSON.value, f"lesson:{lesson_id}"]
    cursor.execute(
        UPDATE_LEDGER_SQL, [seconds // 60, *row, period, str(status), changed, *row, period]
    )


def record_common_beat_in_database(
    person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> BeatAnswer | None:
    """``record_common_beat`` on PostgreSQL: one prepared call of ``learning_common_beat``,
    a statement of its own (its own transaction outside a caller's), so one round trip."""
    with prepared_cursor() as cursor:
        cursor.execute(
            COMMON_BEAT_PG_SQL,
            [person_id, *_common_beat_args(lesson_id, expected_seconds, tab, now)],
        )
        return _common_beat_answer(*cursor.fetchone())


def _common_beat_args(lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime) -> list:
    """``learning_common_beat``'s arguments after the person: the beat and the rule's numbers."""
    return [
        lesson_id,
        tab,
        now,
        MIN_BEAT_INTERVAL,
        MAX_GAP_DELTA,
        cap_for(expected_seconds),
        COMPLETION_SHARE * expected_seconds,
        ParticipationSource.LESSON.value,
        f"lesson:{lesson_id}",
        month_start(timezone.localdate(now)),
        ParticipationStatus.IN_PROGRESS.value,
        ParticipationStatus.COMPLETED.value,
        timezone.now(),
    ]


def _common_beat_answer(outcome, progress_pk, seconds, passed, completed_at) -> BeatAnswer | None:
    """``learning_common_beat``'s result as ``record_common_beat`` answers it."""
    if outcome == "too_fast":
        raise BeatRejected("too_fast")
    if outcome != "ok":
        return None
    return BeatAnswer(progress_pk, seconds, bool(passed), completed_at)


@dataclass(frozen=True, slots=True)
class SessionBeat:
    """``session_beat``'s result: the session row's text and access row as
    ``access.session_and_access_row`` reads them, and the beat when it was recorded."""

    text: str
    access: AccessRow | None
    matched: bool  # the rows were those checked, and the beat went to the database
    # When matched: the common beat's answer; or refused as too fast; or neither (None,
    # False): not a common beat, nothing written, ``record_general_beat`` records it.
    answer: BeatAnswer | None = None
    rejected: bool = False


def session_beat(
    session_key: str, checked: CheckedSession, tab: str, now: dt.datetime
) -> SessionBeat | None:
    """``access.session_and_access_row`` for ``checked``'s user and lesson and, in the same
    statement (PostgreSQL only), ``record_common_beat`` when the rows read are still those
    ``checked`` holds; None when the session has expired or does not exist (nothing written).

    The caller has already checked ``checked.data`` as it checks any session it reads, and
    ``SessionBeat.matched`` says whether the rows still hold what ``checked`` holds. When
    they do not, nothing has been written and the caller goes on with ``text`` and
    ``access`` as from ``session_and_access_row``."""
    lesson_id = checked.lesson_id
    params = [
        *access_params(LessonPage.steplen, lesson_id, checked.user_id),
        checked.text,
        checked.person_id,
        checked.password,
        checked.expected_seconds,
        *_common_beat_args(lesson_id, checked.expected_seconds, tab, now),
        session_key,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with contextlib.ExitStack() as stack:
        if connection.in_atomic_block:  # a caller's transaction (tests): keep it usable
            stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(prepared_cursor())
        cursor.execute(SESSION_BEAT_PG_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    text, access, matched, result = row[0], row[1:8], row[8], row[9:]
    access = None if access[0] is None else AccessRow(*access)
    if not matched:
        return SessionBeat(text, access, False)
    try:
        return SessionBeat(text, access, True, _common_beat_answer(*result))
    except BeatRejected:
        return SessionBeat(text, access, True, rejected=True)


# --- Reads and locks ----------------------------------------------------------------------


def _open_session(row) -> OpenSession | None:
    """``statements.OPEN_SESSION_SQL``'s row (or ``OPEN_SESSION_WITH_LEDGER_SQL``'s, with
    the ledger row's existence last) as ``rule.decide_beat`` takes it."""
    if row is None:
        return None
    pk, started_at, last_beat_at, overlapped, progress_pk, credited, passed, completed_at = row[:8]
    progress = None
    if progress_pk is not None:
        progress = ProgressRead(progress_pk, credited, bool(passed), _aware(completed_at))
    ledger_row = bool(row[8]) if len(row) > 8 else None
    return OpenSession(
        pk, _aware(started_at), _aware(last_beat_at), bool(overlapped), progress, ledger_row
    )


def _progress_of(session: OpenSession, person: Person, lesson: LessonPage) -> LessonProgress | None:
    """The lesson's progress as the session's read found it (None without a row)."""
    read = session.progress
    if read is None:
        return None
    return LessonProgress.from_db(
        connection.alias,
        _PROGRESS_FIELDS,
        [read.pk, person.pk, lesson.pk, read.credited_seconds, read.quiz_passed, read.completed_at],
    )


def _aware(value) -> dt.datetime | None:
    """A datetime column read with raw SQL, as the ORM would return it (SQLite: naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, dt.UTC)


def _lock_person(person: Person) -> None:
    """Serialise one person's beats: their credit depends on all their sessions at once.

    SQLite needs no row lock: its IMMEDIATE transactions already hold the one write lock.
    On PostgreSQL the same statement turns off ``synchronous_commit`` for this transaction
    only: the commit returns before its WAL reaches the disk, so a server crash may lose the
    last fraction of a second of beats (never half of one: the database stays consistent,
    and the next beat credits again from the sessions that were kept)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(LOCK_PERSON_PG_SQL, [person.pk])
    elif connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(LOCK_PERSON_SQL, [person.pk])


# --- Crediting again, completion and the ledger -------------------------------------------------


def credited_for_person(person: Person) -> dict[int, int]:
    """Credited seconds per lesson over all the person's session rows (participation.crediting)."""
    return _credit_sessions_of(person)[0]


def _credit_sessions_of(person: Person) -> tuple[dict[int, int], dict[int, int]]:
    """``credited_for_person`` and each lesson's expected seconds, in one query."""
    sessions, expected = [], {}
    for lesson_id, tab, started, last, seconds in StudySession.objects.filter(
        person=person
    ).values_list("lesson_id", "tab", "started_at", "last_beat_at", "lesson__expected_seconds"):
        sessions.append(Session(lesson_id, tab, started, last))
        expected[lesson_id] = seconds
    return credit_sessions(sessions, expected), expected


def _recompute_credit(person: Person, lesson: LessonPage, now: dt.datetime) -> LessonProgress:
    """Credit all of ``person``'s sessions again and store each lesson's credit that changed;
    return ``lesson``'s progress. Call inside the person's lock (``_lock_person``)."""
    credits, expected = _credit_sessions_of(person)
    existing = {
        p.lesson_id: p
        for p in LessonProgress.objects.select_for_update().filter(
            person=person, lesson_id__in=credits
        )
    }
    for lesson_id, seconds in credits.items():
        progress = existing.get(lesson_id)
        if progress is None:
            progress = LessonProgress.objects.create(
                person=person, lesson_id=lesson_id, credited_seconds=seconds
            )
            existing[lesson_id] = progress
            _credit_changed(progress, None, expected[lesson_id], now)
        elif progress.credited_seconds != seconds:
            old = progress.credited_seconds
            progress.credited_seconds = seconds
            progress.save(update_fields=["credited_seconds", "updated_at"])
            _credit_changed(progress, old, expected[lesson_id], now)
    return existing.get(lesson.pk) or LessonProgress(person=person, lesson=lesson)


def _credit_changed(
    progress: LessonProgress, old: int | None, expected_seconds: int, now: dt.datetime
) -> None:
    """Completion and the ledger after the stored credit of ``progress`` moved from ``old``
    (None: a new row). Nothing is read or written unless the credit crosses the completion
    line or completes a minute: a quiz passed later completes the lesson itself
    (``learning.quiz.do_submit_quiz``)."""
    line = COMPLETION_SHARE * expected_seconds
    completed = progress.completed_at
    if completed is None and progress.credited_seconds >= line and (old is None or old < line):
        # Re-read under the row lock a beat has taken: a quiz answer may have just passed.
        progress.refresh_from_db(fields=["quiz_passed", "completed_at"])
        complete_if_due(progress, expected_seconds, now)
    if (
        old is None
        or old // 60 != progress.credited_seconds // 60
        or completed != progress.completed_at
    ):
        record_participation(progress, now)


def complete_if_due(progress: LessonProgress, expected_seconds: int, now: dt.datetime) -> None:
    """Completion: credited time >= 80 % of the expected length, and the quiz (if any) passed."""
    if progress.completed_at is not None:
        return
    if progress.credited_seconds < COMPLETION_SHARE * expected_seconds:
        return
    if not progress.quiz_passed:
        lesson = LessonPage.objects.only("pk", "body").get(pk=progress.lesson_id)
        if lesson.quiz() is not None:
            return
    progress.completed_at = now
    progress.save(update_fields=["completed_at", "updated_at"])
    issue_if_course_complete(progress.person_id, progress.lesson_id, now)


def record_participation(progress: LessonProgress, now: dt.datetime) -> None:
    """This month's ledger row for the lesson: credited minutes not counted in earlier months."""
    period = month_start(timezone.localdate(now))
    key = f"lesson:{progress.lesson_id}"
    status = (
        ParticipationStatus.COMPLETED
        if progress.completed_at is not None
        else ParticipationStatus.IN_PROGRESS
    )
    # A quarter of all beats complete a minute: the common case (this month's row exists) is
    # one statement; a month's first minute takes the ORM path below.
    ops = connection.ops
    row = [progress.person_id, ParticipationSource.LESSON.value, key]
    with connection.cursor() as cursor:
        cursor.execute(
            UPDATE_LEDGER_SQL,
            [
                progress.credited_seconds // 60,
                *row,
                ops.adapt_datefield_value(period),
                str(status),
                ops.adapt_datetimefield_value(timezone.now()),
                *row,
                ops.adapt_datefield_value(period),
            ],
        )
        if cursor.rowcount:
            return
    earlier = (
        ParticipationRecord.objects.filter(
            person_id=progress.person_id,
            source=ParticipationSource.LESSON,
            requirement_key=key,
            period__lt=period,
        ).aggregate(total=Sum("minutes"))["total"]
        or 0
    )
    minutes = max(0, progress.credited_seconds // 60 - earlier)
    row = ParticipationRecord.objects.filter(
        person_id=progress.person_id,
        source=ParticipationSource.LESSON,
        requirement_key=key,
        period=period,
    )
    if not row.update(minutes=minutes, status=status, updated_at=timezone.now()):
        ParticipationRecord.objects.update_or_create(
            person_id=progress.person_id,
            source=ParticipationSource.LESSON,
            requirement_key=key,
            period=period,
            defaults={"minutes": minutes, "status": status},
        )


def lesson_progress_for(person: Person, lesson: LessonPage) -> LessonProgress:
    """The lesson's progress (unsaved and empty before its first beat): a paused beat's read."""
    return LessonProgress.objects.filter(person=person, lesson=lesson).first() or LessonProgress(
        person=person, lesson=lesson
    )


def do_record_sitting(
    person: Person, lesson: LessonPage, tab: str, started: dt.datetime, ended: dt.datetime
) -> LessonProgress:
    """Record a past sitting whose beats all came in time (at most ``MAX_GAP`` apart), from
    ``started`` to ``ended``, as the one closed session row those beats would have left, and
    credit it as its last beat would have: the same credit, completion and ledger (in the
    month of ``ended``) as ``do_record_heartbeat`` beat by beat, at one write instead of one
    per beat. For the demo's history (``seed_demo``); ``tab`` must be new for the lesson."""
    with transaction.atomic():
        _lock_person(person)
        StudySession.objects.create(
            person=person,
            lesson=lesson,
            tab=tab,
            started_at=started,
            last_beat_at=ended,
            span_seconds=int((ended - started).total_seconds()),
            is_open=False,
        )
        return _recompute_credit(person, lesson, ended)
