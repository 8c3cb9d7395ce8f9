"""Learning services: enrollment checks, verified study time, quizzes, completion, quotas.

Naming follows the house contract: ``access_*`` fetches and checks permission, ``do_*``
writes. Study time is credited by the rule in ``participation.crediting`` from ``StudySession``
rows, the database form of its study log (one UPDATE per beat on the tab's open row).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import types
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from wagtail.models import Page

from courses.models import CoursePage, LessonPage
from courses.quiz import InvalidAnswers, Marked, check_answers
from learning.certificates import issue_if_course_complete
from learning.models import Enrollment, LessonProgress, QuizAttempt, StudySession
from lib.months import month_start
from participation.crediting import (
    MAX_GAP_DELTA,
    Session,
    apply_beat,
    cap_for,
    credit_sessions,
    extended_credit,
    whole_seconds,
)
from participation.models import (
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    StudyQuota,
)
from participation.requirements import DEFAULT_QUOTA_HOURS
from people.models import Person, User

MIN_BEAT_INTERVAL = dt.timedelta(seconds=5)
COMPLETION_SHARE = Decimal("0.8")

__all__ = ["InvalidAnswers"]


class BeatRejected(Exception):
    """A heartbeat that is not credited (``reason`` says why)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class QuizAlreadySubmitted(Exception):
    """This attempt was already stored (a double submission or a racing second tab)."""


# --- Access ---------------------------------------------------------------------------------


def _own_enrollments(user):
    # A learner's scope is themselves (Person.objects.visible_to); filtering on the signed-in
    # user directly saves the role lookup on every lesson page and heartbeat.
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Enrollment.objects.none()
    return Enrollment.objects.published().filter(person__user=user)


def enrollment_for_lesson(user, lesson: LessonPage, with_progress: bool = False):
    """The user's enrollment in the lesson's published course, with its person; one query.

    With ``with_progress`` the row also carries the lesson's progress and latest quiz attempt
    as ``progress_*`` and ``attempt_*`` attributes (still one query)."""
    course_path = lesson.path[: -LessonPage.steplen]
    enrollments = _own_enrollments(user).filter(course__path=course_path).select_related("person")
    if with_progress:
        progress = LessonProgress.objects.filter(person=OuterRef("person"), lesson=lesson)
        attempt = QuizAttempt.objects.filter(person=OuterRef("person"), lesson=lesson).order_by(
            "-number"
        )
        enrollments = enrollments.annotate(
            progress_credited=Subquery(progress.values("credited_seconds")[:1]),
            progress_completed_at=Subquery(progress.values("completed_at")[:1]),
            progress_quiz_passed=Subquery(progress.values("quiz_passed")[:1]),
            attempt_number=Subquery(attempt.values("number")[:1]),
            attempt_score=Subquery(attempt.values("score")[:1]),
            attempt_total=Subquery(attempt.values("total")[:1]),
            attempt_passed=Subquery(attempt.values("passed")[:1]),
        )
    return enrollments.first()


def access_lesson_for_learner(user, lesson_id) -> tuple[Person, LessonPage]:
    """The signed-in person and a live lesson of a published course they are enrolled in.

    Raises Http404 otherwise, so a lesson's existence is never revealed."""
    lesson = LessonPage.objects.live().defer_streamfields().filter(pk=lesson_id).first()
    if lesson is None or not lesson.live:
        raise Http404
    enrollment = enrollment_for_lesson(user, lesson)
    if enrollment is None:
        raise Http404
    return enrollment.person, lesson


def access_course_for_learner(user, course: CoursePage) -> Person:
    enrollment = _own_enrollments(user).filter(course=course).select_related("person").first()
    if enrollment is None:
        raise Http404
    return enrollment.person


# --- Heartbeats -----------------------------------------------------------------------------


# The heartbeat is the busiest endpoint: every open lesson beats every 15 s. Compiling its ORM
# queries (joins through Wagtail's page tree, correlated subqueries) costs several times the CPU
# of running them, so the four statements of a common beat are written out here once, with
# table names from the models; the rarer paths use the ORM.
_TABLES = {
    "lesson": LessonPage._meta.db_table,
    "page": Page._meta.db_table,
    "enrollment": Enrollment._meta.db_table,
    "person": Person._meta.db_table,
    "session": StudySession._meta.db_table,
    "progress": LessonProgress._meta.db_table,
    "ledger": ParticipationRecord._meta.db_table,
    "user": User._meta.db_table,
}
# The user's password hash and flag come along for the session check of ``learning.fastpath``.
_HEARTBEAT_ACCESS_SQL = """
    SELECT u.id, l.page_ptr_id, l.expected_seconds, e.person_id, u.password, u.is_active
    FROM {lesson} l
    JOIN {page} lp ON lp.id = l.page_ptr_id
    JOIN {page} cp ON cp.path = SUBSTR(lp.path, 1, LENGTH(lp.path) - %s)
    JOIN {enrollment} e ON e.course_id = cp.id
    JOIN {person} pe ON pe.id = e.person_id
    JOIN {user} u ON u.id = pe.user_id
    WHERE l.page_ptr_id = %s AND lp.live = %s AND cp.live = %s AND pe.user_id = %s
""".format(**_TABLES)  # noqa: S608 (table names from the models; values are parameters)
# The tab's open session s, the lesson's progress p, and whether another session o of the
# person may cover the seconds a beat at the first parameter adds (``sessions.may_overlap``).
# ``s.is_open`` is written out, not a parameter: a prepared statement's generic plan can use
# the partial index on open sessions only then (otherwise it scanned the lesson's sessions,
# every learner's: 1.1 ms of the database's CPU a beat instead of 0.1).
_OPEN_SESSION_SQL = """
    SELECT s.id, s.started_at, s.last_beat_at,
        EXISTS (
            SELECT 1 FROM {session} o
            WHERE o.person_id = s.person_id AND o.id <> s.id
                AND o.started_at < %s AND o.last_beat_at > s.last_beat_at
        ),
        p.id, p.credited_seconds, p.quiz_passed, p.completed_at
    FROM {session} s
    LEFT JOIN {progress} p ON p.person_id = s.person_id AND p.lesson_id = s.lesson_id
    WHERE s.person_id = %s AND s.lesson_id = %s AND s.tab = %s AND s.is_open
""".format(**_TABLES)  # noqa: S608
# The same row for ``record_common_beat``, with whether this month's ledger row of the lesson
# exists (parameters: person, source, requirement key, period, then those of
# _OPEN_SESSION_SQL). The person is a parameter, not ``s.person_id``: correlated, PostgreSQL
# may plan the check as a scan of the month's rows for the lesson (every learner's).
_OPEN_SESSION_WITH_LEDGER_SQL = _OPEN_SESSION_SQL.replace(
    "p.completed_at\n",
    """p.completed_at,
        EXISTS (
            SELECT 1 FROM {ledger} g WHERE g.person_id = %s AND g.source = %s
                AND g.requirement_key = %s AND g.period = %s
        )
""".format(**_TABLES),  # noqa: S608
    1,
)
_EXTEND_SESSION_SQL = """
    UPDATE {session} SET last_beat_at = %s, span_seconds = %s WHERE id = %s AND last_beat_at < %s
""".format(**_TABLES)  # noqa: S608
_STORE_CREDIT_SQL = """
    UPDATE {progress} SET credited_seconds = %s, updated_at = %s WHERE id = %s
""".format(**_TABLES)  # noqa: S608
_LOCK_PERSON_PG_SQL = """
    SELECT id, set_config('synchronous_commit', 'off', true) FROM {person}
    WHERE id = %s FOR NO KEY UPDATE
""".format(**_TABLES)  # noqa: S608
# This month's ledger row of a lesson (``_record_participation``): its credited minutes less
# those counted in earlier months, never below zero.
_UPDATE_LEDGER_SQL = """
    UPDATE {ledger} SET minutes = (
        SELECT CASE WHEN t.left_over > 0 THEN t.left_over ELSE 0 END FROM (
            SELECT %s - COALESCE(SUM(e.minutes), 0) AS left_over FROM {ledger} e
            WHERE e.person_id = %s AND e.source = %s AND e.requirement_key = %s AND e.period < %s
        ) t
    ), status = %s, updated_at = %s
    WHERE person_id = %s AND source = %s AND requirement_key = %s AND period = %s
""".format(**_TABLES)  # noqa: S608


def access_lesson_for_heartbeat(user, lesson_id: int) -> tuple[Person, LessonPage]:
    """``access_lesson_for_learner`` in one query, for the heartbeat's hot path.

    Returns partly loaded instances (the other fields load on access): the lesson with its key
    and ``expected_seconds``, the person with its key and user, all ``do_record_heartbeat``
    reads. Raises Http404 as ``access_lesson_for_learner`` does."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    found = access_lesson_for_user_id(user.pk, lesson_id)
    if found is None:
        raise Http404
    return found[0], found[1]


def access_row_for_user_id(user_id: int, lesson_id: int) -> tuple | None:
    """``(user id, lesson id, expected seconds, person id, password hash, is_active)`` when
    user ``user_id``'s person is enrolled in the published course of live lesson
    ``lesson_id``, in one query; None otherwise. The user is not checked yet (active, session
    hash): that is the caller's (``learning.fastpath``)."""
    with prepared_cursor() as cursor:
        cursor.execute(_HEARTBEAT_ACCESS_SQL, [LessonPage.steplen, lesson_id, True, True, user_id])
        return cursor.fetchone()


def session_and_access_row(
    session_key: str, user_id: int | None, lesson_id: int
) -> tuple[str, tuple | None] | None:
    """A live session row's stored data and, in the same query, ``access_row_for_user_id``
    for ``user_id`` (None without a user or an enrollment); None when the session has expired
    or does not exist. The caller checks that the session is that user's."""
    from django.contrib.sessions.models import Session as SessionRow

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT s.session_data, a.* FROM {SessionRow._meta.db_table} s"  # noqa: S608
            f" LEFT JOIN ({_HEARTBEAT_ACCESS_SQL}) a ON 1 = 1"
            " WHERE s.session_key = %s AND s.expire_date > %s",
            [LessonPage.steplen, lesson_id, True, True, user_id, session_key, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0], (None if row[1] is None else tuple(row[1:]))


class _Preparing:
    """A psycopg cursor with server-side binding whose ``execute`` prepares its statement."""

    def __init__(self, cursor):
        self._cursor = cursor
        self._sql = ""

    def execute(self, sql, params=None):
        self._sql = sql
        return self._cursor.execute(sql, params, prepare=True)

    @property
    def _query(self):
        """What Django's query log reads (``last_executed_query``): psycopg's, or the
        statement as written when psycopg keeps none (a prepared statement's)."""
        query = self._cursor._query
        if query is not None and query.query is not None:
            return query
        return types.SimpleNamespace(query=self._sql.encode())

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@contextlib.contextmanager
def prepared_cursor():
    """A Django cursor (errors wrapped, queries logged under DEBUG and in tests) whose
    statements PostgreSQL plans once per connection: prepared, not sent as text each time.

    Django sends every statement as text by default (client-side binding, no prepared
    statements, for connection poolers): right for most queries, but the heartbeat's read
    joins seven tables, and planning that took 2.5 ms of the database's CPU per beat, several
    times its execution. Any other database: the ordinary cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns psycopg's prepared statements off for the whole connection; its own
        # cursors bind on the client and are never prepared, so this affects ours only.
        connection.connection.prepare_threshold = 5
    raw = _Preparing(psycopg.Cursor(connection.connection))
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    try:
        yield cursor
    finally:
        raw.close()


def partial_person_and_lesson(
    person_id: int, user_id: int, lesson_id: int, expected_seconds: int
) -> tuple[Person, LessonPage]:
    """The person and the lesson with only the fields a heartbeat reads (the rest load on
    access), as ``access_row_for_user_id`` found them."""
    alias = connection.alias
    lesson = LessonPage.from_db(
        alias, ["id", "page_ptr_id", "expected_seconds"], [lesson_id, lesson_id, expected_seconds]
    )
    person = Person.from_db(alias, ["id", "user_id"], [person_id, user_id])
    return person, lesson


def access_lesson_for_user_id(
    user_id: int, lesson_id: int
) -> tuple[Person, LessonPage, User] | None:
    """The person of user ``user_id``, a live lesson of a published course they are enrolled
    in and the user, all partly loaded, in one query; None when there is no such enrollment.

    The user carries only its key, ``password`` and ``is_active``: not yet checked here."""
    found = access_row_for_user_id(user_id, lesson_id)
    if found is None:
        return None
    _user_id, lesson_pk, expected_seconds, person_pk, password, is_active = found
    person, lesson = partial_person_and_lesson(person_pk, user_id, lesson_pk, expected_seconds)
    user = User.from_db(
        connection.alias, ["id", "password", "is_active"], [user_id, password, bool(is_active)]
    )
    return person, lesson, user


def do_record_heartbeat(
    person: Person, lesson: LessonPage, tab: str, now: dt.datetime | None = None
) -> LessonProgress:
    """Record one heartbeat received at ``now`` (server clock) and return the lesson's progress.

    Raises BeatRejected("too_fast") for a beat less than 5 s after the tab's previous one;
    nothing is written then. The caller has checked enrollment (``access_lesson_for_heartbeat``);
    only the keys and ``lesson.expected_seconds`` are read.

    A beat that extends its tab's session costs four statements (three on SQLite, which needs
    no row lock): lock the person, read the session with the lesson's progress, move the
    session's end, store the lesson's new credit (``participation.crediting.extended_credit``); plus
    the ledger when a minute is completed. All the person's sessions are credited again
    (``_recompute_credit``) only when that shortcut does not apply: tabs overlapping, the cap
    reached, a session's first whole second. A changed expected length takes effect there,
    that is, from the next sitting at the latest.
    """
    now = now or timezone.now()
    common = record_common_beat(person.pk, lesson.pk, lesson.expected_seconds, tab, now)
    if common is not None:
        return common.as_progress(person.pk, lesson.pk)
    with transaction.atomic():
        _lock_person(person)
        row = _open_session(person, lesson, tab, now)
        if row is None:
            # The tab's first beat covers no whole second yet: no credit changes.
            StudySession.objects.create(
                person=person, lesson=lesson, tab=tab, started_at=now, last_beat_at=now
            )
            progress, created = LessonProgress.objects.get_or_create(person=person, lesson=lesson)
            if created:
                _credit_changed(progress, None, lesson.expected_seconds, now)
            return progress
        if now - row.last_beat_at < MIN_BEAT_INTERVAL:
            raise BeatRejected("too_fast")
        before = Session(lesson.pk, tab, row.started_at, row.last_beat_at)
        after, closed = apply_beat(before, {"lesson": lesson.pk, "tab": tab, "at": now})
        progress = row.progress
        if closed is not None:
            # The tab slept longer than MAX_GAP: its session stays as it was, the new one
            # covers no whole second yet, so no credit changes.
            StudySession.objects.filter(pk=row.pk).update(is_open=False)
            StudySession.objects.create(
                person=person, lesson=lesson, tab=tab, started_at=now, last_beat_at=now
            )
            return progress or _recompute_credit(person, lesson, now)
        start, end = whole_seconds(after)
        at = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.execute(_EXTEND_SESSION_SQL, [at, end - start, row.pk, at])
        seconds = None
        if progress is not None:
            cap = cap_for(lesson.expected_seconds)
            seconds = extended_credit(before, after, progress.credited_seconds, cap, row.overlapped)
        if seconds is None:
            return _recompute_credit(person, lesson, now)
        if seconds != progress.credited_seconds:
            old = progress.credited_seconds
            progress.credited_seconds = seconds
            with connection.cursor() as cursor:
                changed = connection.ops.adapt_datetimefield_value(timezone.now())
                cursor.execute(_STORE_CREDIT_SQL, [seconds, changed, progress.pk])
            _credit_changed(progress, old, lesson.expected_seconds, now)
    return progress


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
            ["id", "person_id", "lesson_id", "credited_seconds", "quiz_passed", "completed_at"],
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
    """The beat is not the common one: ``do_record_heartbeat`` records it instead."""


def record_common_beat(
    person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> BeatAnswer | None:
    """Record a beat that only extends its tab's open session; None (nothing written) when
    the beat needs ``do_record_heartbeat``'s general path.

    Same rules and statements as ``do_record_heartbeat``; the general path takes over for a
    tab's first beat, a gap over MAX_GAP, overlapping tabs or a near cap (``extended_credit``
    says None), the completion line, and a month's first ledger minute. Raises
    BeatRejected("too_fast") like it. SQLite, in process, runs the read and the writes of
    ``_common_beat_writes`` in an IMMEDIATE transaction. On PostgreSQL the same rule runs in
    the database, ``learning_common_beat``: one prepared call, one round trip (a transaction
    of six statements was eight round trips through the ORM, and cost three times the CPU
    in two pipelined batches)."""
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:  # a caller's transaction (tests): keep it usable
            with transaction.atomic():
                return _record_common_beat_in_database(
                    person_id, lesson_id, expected_seconds, tab, now
                )
        return _record_common_beat_in_database(person_id, lesson_id, expected_seconds, tab, now)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _OPEN_SESSION_WITH_LEDGER_SQL,
                open_session_with_ledger_params(person_id, lesson_id, tab, now),
            )
            writes, answer = _common_beat_writes(
                cursor.fetchone(), person_id, lesson_id, expected_seconds, tab, now
            )
            for sql, params in writes:
                cursor.execute(sql, params)
    except _GeneralPath:
        return None
    return answer


def open_session_with_ledger_params(person_id: int, lesson_id: int, tab: str, now) -> list:
    """The parameters of ``_OPEN_SESSION_WITH_LEDGER_SQL`` for a beat at ``now``."""
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


# ``learning_common_beat`` (learning migration 0007): ``_common_beat_writes``'s rule inside
# PostgreSQL, one prepared call; the rule's numbers are its parameters.
# Its arguments after the person, typed (prepared statements infer no types from them).
_COMMON_BEAT_ARGS = """%s::bigint, %s::text, %s::timestamptz, %s::interval, %s::interval,
        %s::bigint, %s::numeric, %s::text, %s::text, %s::date, %s::text, %s::text,
        %s::timestamptz"""
_COMMON_BEAT_PG_SQL = f"""
    SELECT o_outcome, o_progress_id, o_credited, o_quiz_passed, o_completed_at
    FROM learning_common_beat(%s::bigint, {_COMMON_BEAT_ARGS})
"""  # noqa: S608 (no value in the text: all are parameters)


def _record_common_beat_in_database(
    person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> BeatAnswer | None:
    """``record_common_beat`` on PostgreSQL: one prepared call of ``learning_common_beat``,
    a statement of its own (its own transaction outside a caller's), so one round trip."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _COMMON_BEAT_PG_SQL,
            [person_id, *_common_beat_args(lesson_id, expected_seconds, tab, now)],
        )
        return _common_beat_answer(*cursor.fetchone())


def _common_beat_args(lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime) -> list:
    """``_COMMON_BEAT_ARGS``: the beat and the rule's numbers."""
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
class CheckedSession:
    """What a worker verified of a session for a lesson (``learning.fastpath``): the session
    row's stored text and its decoded data, and the access row it was checked against."""

    text: str
    data: dict
    user_id: int
    lesson_id: int
    person_id: int
    expected_seconds: int
    password: str


@dataclass(frozen=True, slots=True)
class SessionBeat:
    """``session_and_access_row``'s result, and the beat when it was recorded with it."""

    text: str
    found: tuple | None
    checked: bool  # the rows were the ones claimed, and the beat went to the database
    # When checked: the common beat's answer; or refused as too fast; or neither (None,
    # False): not a common beat, nothing written, ``do_record_heartbeat`` records it.
    answer: BeatAnswer | None = None
    rejected: bool = False


# ``session_and_access_row`` and ``learning_common_beat`` in one statement, one round trip:
# the beat is recorded only when the session row's text, the person, the password hash, the
# active flag and the lesson's length are those a worker has checked (``CheckedSession``);
# otherwise the function is called with no person, finds no open session and writes nothing.
_SESSION_BEAT_PG_SQL = f"""
    SELECT s.session_data, a.*, c.checked,
        b.o_outcome, b.o_progress_id, b.o_credited, b.o_quiz_passed, b.o_completed_at
    FROM django_session s
    LEFT JOIN ({_HEARTBEAT_ACCESS_SQL}) a ON 1 = 1
    CROSS JOIN LATERAL (
        SELECT COALESCE(
            s.session_data = %s AND a.person_id = %s AND a.password = %s AND a.is_active
                AND a.expected_seconds = %s,
            false
        ) AS checked
    ) c
    CROSS JOIN LATERAL learning_common_beat(
        CASE WHEN c.checked THEN a.person_id END, {_COMMON_BEAT_ARGS}
    ) b
    WHERE s.session_key = %s AND s.expire_date > %s
"""  # noqa: S608 (table names from the models; values are parameters)


def session_beat(
    session_key: str, claim: CheckedSession, tab: str, now: dt.datetime
) -> SessionBeat | None:
    """``session_and_access_row`` for ``claim``'s user and lesson and, in the same statement
    (PostgreSQL only), ``record_common_beat`` when the rows read are still those ``claim``
    holds; None when the session has expired or does not exist (nothing written then).

    The caller has already checked ``claim.data`` as it checks any session it reads, and
    ``SessionBeat.checked`` says whether the rows still hold what ``claim`` holds. When they
    do not, nothing has been written and the caller goes on with ``text`` and ``found`` as
    from ``session_and_access_row``."""
    lesson_id = claim.lesson_id
    params = [
        LessonPage.steplen,
        lesson_id,
        True,
        True,
        claim.user_id,
        claim.text,
        claim.person_id,
        claim.password,
        claim.expected_seconds,
        *_common_beat_args(lesson_id, claim.expected_seconds, tab, now),
        session_key,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with contextlib.ExitStack() as stack:
        if connection.in_atomic_block:  # a caller's transaction (tests): keep it usable
            stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(prepared_cursor())
        cursor.execute(_SESSION_BEAT_PG_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    text, found, checked, result = row[0], row[1:7], row[7], row[8:]
    found = None if found[0] is None else tuple(found)
    if not checked:
        return SessionBeat(text, found, False)
    try:
        return SessionBeat(text, found, True, _common_beat_answer(*result))
    except BeatRejected:
        return SessionBeat(text, found, True, rejected=True)


def _common_beat_writes(
    row, person_id: int, lesson_id: int, expected_seconds: int, tab: str, now: dt.datetime
) -> tuple[list[tuple[str, list]], BeatAnswer]:
    """The statements that record a common beat, read as ``row``
    (``_OPEN_SESSION_WITH_LEDGER_SQL``), and its answer; raises _GeneralPath when the beat is
    not a common one, BeatRejected("too_fast") as ``do_record_heartbeat`` does."""
    if row is None:
        raise _GeneralPath
    (
        pk,
        started_at,
        last_beat_at,
        overlapped,
        progress_pk,
        credited,
        passed,
        completed_at,
        ledger,
    ) = row
    completed_at = _aware(completed_at)
    last_beat_at = _aware(last_beat_at)
    if now - last_beat_at < MIN_BEAT_INTERVAL:
        raise BeatRejected("too_fast")
    if progress_pk is None:
        raise _GeneralPath
    before = Session(lesson_id, tab, _aware(started_at), last_beat_at)
    after, closed = apply_beat(before, {"lesson": lesson_id, "tab": tab, "at": now})
    if closed is not None:
        raise _GeneralPath
    seconds = extended_credit(before, after, credited, cap_for(expected_seconds), bool(overlapped))
    if seconds is None:
        raise _GeneralPath
    line = COMPLETION_SHARE * expected_seconds
    if completed_at is None and seconds >= line and credited < line:
        raise _GeneralPath  # completion: the quiz and the certificate
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    start, end = whole_seconds(after)
    writes = [(_EXTEND_SESSION_SQL, [at, end - start, pk, at])]
    if seconds != credited:
        changed = ops.adapt_datetimefield_value(timezone.now())
        writes.append((_STORE_CREDIT_SQL, [seconds, changed, progress_pk]))
        if credited // 60 != seconds // 60:
            if not ledger:
                raise _GeneralPath  # the month's first minute creates the row
            status = (
                ParticipationStatus.IN_PROGRESS
                if completed_at is None
                else ParticipationStatus.COMPLETED
            )
            period = ops.adapt_datefield_value(month_start(timezone.localdate(now)))
            ledger_row = [person_id, ParticipationSource.LESSON.value, f"lesson:{lesson_id}"]
            writes.append(
                (
                    _UPDATE_LEDGER_SQL,
                    [seconds // 60, *ledger_row, period, str(status), changed, *ledger_row, period],
                )
            )
    return writes, BeatAnswer(progress_pk, seconds, bool(passed), completed_at)


def _lock_person(person: Person) -> None:
    """Serialise one person's beats: their credit depends on all their sessions at once.

    SQLite needs no row lock: its IMMEDIATE transactions already hold the one write lock.
    On PostgreSQL the same statement turns off ``synchronous_commit`` for this transaction
    only: the commit returns before its WAL reaches the disk, so a server crash may lose the
    last fraction of a second of beats (never half of one: the database stays consistent,
    and the next beat credits again from the sessions that were kept)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_PERSON_PG_SQL, [person.pk])
    elif connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {_TABLES['person']} WHERE id = %s FOR UPDATE",  # noqa: S608
                [person.pk],
            )


@dataclass(frozen=True)
class _OpenSession:
    """A tab's open session row as the heartbeat reads it (``_open_session``)."""

    pk: int
    started_at: dt.datetime
    last_beat_at: dt.datetime
    overlapped: bool
    progress: LessonProgress | None


def _open_session(
    person: Person, lesson: LessonPage, tab: str, now: dt.datetime
) -> _OpenSession | None:
    """The tab's open session row, with the lesson's progress (None without a row) and whether
    another session of the person may cover the seconds a beat at ``now`` adds; one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            _OPEN_SESSION_SQL,
            [connection.ops.adapt_datetimefield_value(now), person.pk, lesson.pk, tab],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk, started_at, last_beat_at, overlapped, progress_pk, credited, passed, completed_at = row
    progress = None
    if progress_pk is not None:
        progress = LessonProgress.from_db(
            connection.alias,
            ["id", "person_id", "lesson_id", "credited_seconds", "quiz_passed", "completed_at"],
            [progress_pk, person.pk, lesson.pk, credited, bool(passed), _aware(completed_at)],
        )
    return _OpenSession(pk, _aware(started_at), _aware(last_beat_at), bool(overlapped), progress)


def _aware(value) -> dt.datetime | None:
    """A datetime column read with raw SQL, as the ORM would return it (SQLite: naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, dt.UTC)


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
    (``do_submit_quiz``)."""
    line = COMPLETION_SHARE * expected_seconds
    completed = progress.completed_at
    if completed is None and progress.credited_seconds >= line and (old is None or old < line):
        # Re-read under the row lock a beat has taken: a quiz answer may have just passed.
        progress.refresh_from_db(fields=["quiz_passed", "completed_at"])
        _complete_if_due(progress, expected_seconds, now)
    if (
        old is None
        or old // 60 != progress.credited_seconds // 60
        or completed != progress.completed_at
    ):
        _record_participation(progress, now)


def _complete_if_due(progress: LessonProgress, expected_seconds: int, now: dt.datetime) -> None:
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


def _record_participation(progress: LessonProgress, now: dt.datetime) -> None:
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
            _UPDATE_LEDGER_SQL,
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


# --- Quizzes --------------------------------------------------------------------------------


def next_attempt_number(person: Person, lesson: LessonPage) -> int:
    latest = QuizAttempt.objects.filter(person=person, lesson=lesson).aggregate(n=Max("number"))
    return (latest["n"] or 0) + 1


def do_submit_quiz(
    person: Person,
    lesson: LessonPage,
    answers: dict[str, list[str]],
    number: int | None = None,
    now: dt.datetime | None = None,
) -> QuizAttempt:
    """Mark ``answers`` and store them as attempt ``number`` (default: the next one).

    Raises InvalidAnswers for missing or unknown questions and options, and
    QuizAlreadySubmitted when attempt ``number`` exists already: of two racing submissions
    of the same form exactly one is stored."""
    quiz = lesson.quiz()
    if quiz is None:
        raise InvalidAnswers(_("This lesson has no quiz."))
    marked: Marked = check_answers(quiz, answers)
    now = now or timezone.now()
    with transaction.atomic():
        if number is None:
            number = next_attempt_number(person, lesson)
        try:
            with transaction.atomic():
                attempt = QuizAttempt.objects.create(
                    person=person,
                    lesson=lesson,
                    number=number,
                    answers=marked.answers,
                    score=marked.score,
                    total=marked.total,
                    passed=marked.passed,
                )
        except IntegrityError as error:
            raise QuizAlreadySubmitted from error
        if marked.passed:
            progress, _created = LessonProgress.objects.select_for_update().get_or_create(
                person=person, lesson=lesson
            )
            if not progress.quiz_passed:
                progress.quiz_passed = True
                progress.save(update_fields=["quiz_passed", "updated_at"])
                _complete_if_due(progress, lesson.expected_seconds, now)
                _record_participation(progress, now)
    return attempt


# --- Monthly summary and the learner's home -------------------------------------------------


@dataclass
class CourseProgress:
    course: CoursePage
    lessons: int = 0
    completed: int = 0
    credited_seconds: int = 0
    expected_seconds: int = 0
    next_lesson: LessonPage | None = None
    due_date: dt.date | None = None

    @property
    def percent(self) -> int:
        if not self.expected_seconds:
            return 0
        if self.lessons and self.completed == self.lessons:
            return 100
        return min(99, self.credited_seconds * 100 // self.expected_seconds)

    @property
    def is_complete(self) -> bool:
        return self.lessons > 0 and self.completed == self.lessons


@dataclass
class MonthSummary:
    period: dt.date
    minutes: int
    quota_hours: Decimal
    courses: list[CourseProgress] = field(default_factory=list)

    @property
    def quota_minutes(self) -> int:
        return int(self.quota_hours * 60)

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))

    @property
    def percent(self) -> int:
        if not self.quota_minutes:
            return 100
        return min(100, self.minutes * 100 // self.quota_minutes)

    @property
    def next_lesson(self) -> LessonPage | None:
        return next((c.next_lesson for c in self.courses if c.next_lesson), None)


def quota_hours_for(person: Person) -> Decimal:
    quota = StudyQuota.objects.filter(category=person.category).values_list("hours", flat=True)
    return next(iter(quota), DEFAULT_QUOTA_HOURS)


def course_progress(person: Person) -> list[CourseProgress]:
    """Progress in each published enrolled course, in three queries whatever their number."""
    enrollments = list(
        Enrollment.objects.for_person(person)
        .published()
        .select_related("course")
        .defer("course__latest_revision")
        .order_by("due_date", "course__path")
    )
    if not enrollments:
        return []
    by_path = {e.course.path: CourseProgress(e.course, due_date=e.due_date) for e in enrollments}
    depth = enrollments[0].course.depth + 1
    paths = Q()
    for path in by_path:
        paths |= Q(path__startswith=path)
    lessons = list(
        LessonPage.objects.live()
        .filter(paths, depth=depth)
        .defer_streamfields()
        .only("pk", "path", "depth", "title", "slug", "url_path", "expected_seconds")
        .order_by("path")
    )
    progress = {
        p.lesson_id: p
        for p in LessonProgress.objects.filter(person=person, lesson__in=[x.pk for x in lessons])
    }
    for lesson in lessons:
        course = by_path.get(lesson.path[: -LessonPage.steplen])
        if course is None:
            continue
        row = progress.get(lesson.pk)
        course.lessons += 1
        course.expected_seconds += lesson.expected_seconds
        if row is not None:
            course.credited_seconds += min(row.credited_seconds, lesson.expected_seconds)
        if row is not None and row.completed_at is not None:
            course.completed += 1
        elif course.next_lesson is None:
            course.next_lesson = lesson
    return list(by_path.values())


def month_summary(person: Person, today: dt.date | None = None) -> MonthSummary:
    """This month's participation minutes against the quota, and per-course progress."""
    period = month_start(today or timezone.localdate())
    minutes = (
        ParticipationRecord.objects.filter(person=person, period=period).aggregate(
            total=Sum("minutes")
        )["total"]
        or 0
    )
    return MonthSummary(
        period=period,
        minutes=minutes,
        quota_hours=quota_hours_for(person),
        courses=course_progress(person),
    )


def dashboard_cards(user, person: Person | None) -> MonthSummary | None:
    """What the learner's home page shows in its hours and courses cards (``study``)."""
    if person is None:
        return None
    return month_summary(person)


def lesson_progress_for(person: Person, lesson: LessonPage) -> LessonProgress:
    return LessonProgress.objects.filter(person=person, lesson=lesson).first() or LessonProgress(
        person=person, lesson=lesson
    )


# --- Subject-access export (people.privacy.PERSON_DATA_COLLECTORS) ---------------------------


def collect_learning_data(person: Person) -> dict:
    """Enrollments, study sessions, lesson progress, quiz attempts and participation."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    return {
        "study_records": {
            "enrollments": [
                {"course": e.course.title, "due_date": e.due_date and e.due_date.isoformat()}
                for e in Enrollment.objects.for_person(person).select_related("course")
            ],
            "study_sessions": [
                {
                    "lesson_id": s.lesson_id,
                    "started_at": when(s.started_at),
                    "last_beat_at": when(s.last_beat_at),
                }
                for s in StudySession.objects.filter(person=person).order_by("started_at", "pk")
            ],
            "lesson_progress": [
                {
                    "lesson_id": p.lesson_id,
                    "credited_seconds": p.credited_seconds,
                    "quiz_passed": p.quiz_passed,
                    "completed_at": when(p.completed_at),
                }
                for p in LessonProgress.objects.filter(person=person).order_by("pk")
            ],
            "quiz_attempts": [
                {
                    "lesson_id": a.lesson_id,
                    "number": a.number,
                    "answers": a.answers,
                    "score": a.score,
                    "total": a.total,
                    "passed": a.passed,
                    "at": when(a.created_at),
                }
                for a in QuizAttempt.objects.filter(person=person).order_by("created_at", "pk")
            ],
            "participation": [
                {
                    "period": r.period.isoformat(),
                    "source": r.source,
                    "requirement": r.requirement_key,
                    "minutes": r.minutes,
                    "status": r.status,
                }
                for r in ParticipationRecord.objects.filter(person=person).order_by("period", "pk")
            ],
        }
    }
