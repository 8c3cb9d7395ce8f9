"""The heartbeat's SQL, written out once, and the cursor that prepares it on PostgreSQL.

The heartbeat is the busiest endpoint: every open lesson beats every 15 s. Compiling its ORM
queries (joins through Wagtail's page tree, correlated subqueries) costs several times the
CPU of running them, so the statements of a common beat are written here, with table names
from the models; the rarer paths use the ORM. Longer statements are composed from the named
fragments below, never edited by string replacement. Values are always parameters.

``common_beat.sql`` is the PostgreSQL function ``learning_common_beat`` (learning migration
0007 installs it from that file): ``rule.decide_beat`` and the common path's writes in one
call, one round trip.
"""

from __future__ import annotations

import contextlib
import types

import psycopg
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session as SessionRow
from django.db import connection
from wagtail.models import Page

from courses.models import LessonPage
from learning.models import Enrollment, LessonProgress, StudySession
from participation.models import ParticipationRecord
from people.models import Person, User
from people.roles import STAFF_ROLES

_TABLES = {
    "lesson": LessonPage._meta.db_table,
    "page": Page._meta.db_table,
    "enrollment": Enrollment._meta.db_table,
    "person": Person._meta.db_table,
    "session": StudySession._meta.db_table,
    "progress": LessonProgress._meta.db_table,
    "ledger": ParticipationRecord._meta.db_table,
    "user": User._meta.db_table,
    "signed_in": SessionRow._meta.db_table,  # Django's sessions (``lib.session_store``)
    "user_groups": User.groups.through._meta.db_table,
    "group": Group._meta.db_table,
}
# The staff roles' group names, parameters of ACCESS_SQL (``access_params``).
_STAFF_ROLE_NAMES = sorted(STAFF_ROLES)
_TABLES_AND_ROLES = {**_TABLES, "staff_roles": ", ".join(["%s"] * len(_STAFF_ROLE_NAMES))}

# --- Who may beat ---------------------------------------------------------------------------

# The enrollment of user %s's person in the published course of live lesson %s, with the
# user's password hash and flag for the session check, and whether the user needs the second
# sign-in step (``people.twofactor.needs_two_factor``: a staff role, ``is_staff`` or a
# superuser), which the fast path leaves to the full stack (``access.AccessRow``, in this
# order). Parameters: ``access_params``.
ACCESS_SQL = """
    SELECT u.id, l.page_ptr_id, l.expected_seconds, e.person_id, u.password, u.is_active,
        (u.is_staff OR u.is_superuser OR EXISTS (
            SELECT 1 FROM {user_groups} ug JOIN {group} g ON g.id = ug.group_id
            WHERE ug.user_id = u.id AND g.name IN ({staff_roles})
        )) AS second_step
    FROM {lesson} l
    JOIN {page} lp ON lp.id = l.page_ptr_id
    JOIN {page} cp ON cp.path = SUBSTR(lp.path, 1, LENGTH(lp.path) - %s)
    JOIN {enrollment} e ON e.course_id = cp.id
    JOIN {person} pe ON pe.id = e.person_id
    JOIN {user} u ON u.id = pe.user_id
    WHERE l.page_ptr_id = %s AND lp.live = %s AND cp.live = %s AND pe.user_id = %s
""".format(**_TABLES_AND_ROLES)  # noqa: S608 (table names from the models; values are parameters)


def access_params(steplen: int, lesson_id: int, user_id: int | None) -> list:
    """ACCESS_SQL's parameters, in order."""
    return [*_STAFF_ROLE_NAMES, steplen, lesson_id, True, True, user_id]


# Where a live session row s is (parameters: the session key, now).
_LIVE_SESSION = "WHERE s.session_key = %s AND s.expire_date > %s"
# A live session row's stored text, with ACCESS_SQL's row when there is one (``access.
# session_and_access_row``; parameters: ACCESS_SQL's, then _LIVE_SESSION's).
SESSION_AND_ACCESS_SQL = f"""
    SELECT s.session_data, a.* FROM {_TABLES["signed_in"]} s
    LEFT JOIN ({ACCESS_SQL}) a ON 1 = 1
    {_LIVE_SESSION}
"""  # noqa: S608

# --- A beat's read ----------------------------------------------------------------------------

# The tab's open session s, whether another session o of the person may cover the seconds a
# beat at the first parameter adds (``crediting.may_overlap``), and the lesson's progress p.
# ``s.is_open`` is written out, not a parameter: a prepared statement's generic plan can use
# the partial index on open sessions only then (otherwise it scanned the lesson's sessions,
# every learner's: 1.1 ms of the database's CPU a beat instead of 0.1).
_OPEN_SESSION_COLUMNS = f"""s.id, s.started_at, s.last_beat_at,
        EXISTS (
            SELECT 1 FROM {_TABLES["session"]} o
            WHERE o.person_id = s.person_id AND o.id <> s.id
                AND o.started_at < %s AND o.last_beat_at > s.last_beat_at
        ),
        p.id, p.credited_seconds, p.quiz_passed, p.completed_at"""  # noqa: S608
# Whether this month's ledger row of the lesson exists (parameters: person, source,
# requirement key, period). The person is a parameter, not ``s.person_id``: correlated,
# PostgreSQL may plan the check as a scan of the month's rows for the lesson (every learner's).
_LEDGER_ROW_EXISTS = f"""EXISTS (
            SELECT 1 FROM {_TABLES["ledger"]} g WHERE g.person_id = %s AND g.source = %s
                AND g.requirement_key = %s AND g.period = %s
        )"""  # noqa: S608
# Parameters: person, lesson, tab.
_OPEN_SESSION_OF_TAB = f"""FROM {_TABLES["session"]} s
    LEFT JOIN {_TABLES["progress"]} p
        ON p.person_id = s.person_id AND p.lesson_id = s.lesson_id
    WHERE s.person_id = %s AND s.lesson_id = %s AND s.tab = %s AND s.is_open"""  # noqa: S608

# The general path's read (``store.record_general_beat``).
OPEN_SESSION_SQL = f"""
    SELECT {_OPEN_SESSION_COLUMNS}
    {_OPEN_SESSION_OF_TAB}
"""  # noqa: S608
# The common path's read, with the ledger row (``store.record_common_beat_in_process``).
OPEN_SESSION_WITH_LEDGER_SQL = f"""
    SELECT {_OPEN_SESSION_COLUMNS},
        {_LEDGER_ROW_EXISTS}
    {_OPEN_SESSION_OF_TAB}
"""  # noqa: S608

# --- A beat's writes ----------------------------------------------------------------------------

EXTEND_SESSION_SQL = """
    UPDATE {session} SET last_beat_at = %s, span_seconds = %s WHERE id = %s AND last_beat_at < %s
""".format(**_TABLES)  # noqa: S608
STORE_CREDIT_SQL = """
    UPDATE {progress} SET credited_seconds = %s, updated_at = %s WHERE id = %s
""".format(**_TABLES)  # noqa: S608
# PostgreSQL: the person's row lock, and this transaction's commit not waiting for the disk.
LOCK_PERSON_PG_SQL = """
    SELECT id, set_config('synchronous_commit', 'off', true) FROM {person}
    WHERE id = %s FOR NO KEY UPDATE
""".format(**_TABLES)  # noqa: S608
# Elsewhere (SQLite needs none): the person's row lock.
LOCK_PERSON_SQL = """
    SELECT id FROM {person} WHERE id = %s FOR UPDATE
""".format(**_TABLES)  # noqa: S608
# This month's ledger row of a lesson (``store.record_participation``): its credited minutes
# less those counted in earlier months, never below zero.
UPDATE_LEDGER_SQL = """
    UPDATE {ledger} SET minutes = (
        SELECT CASE WHEN t.left_over > 0 THEN t.left_over ELSE 0 END FROM (
            SELECT %s - COALESCE(SUM(e.minutes), 0) AS left_over FROM {ledger} e
            WHERE e.person_id = %s AND e.source = %s AND e.requirement_key = %s AND e.period < %s
        ) t
    ), status = %s, updated_at = %s
    WHERE person_id = %s AND source = %s AND requirement_key = %s AND period = %s
""".format(**_TABLES)  # noqa: S608

# --- PostgreSQL: the common beat in one call ------------------------------------------------

# ``learning_common_beat``'s arguments after the person, typed (prepared statements infer no
# types from them): ``store._common_beat_args``.
_COMMON_BEAT_ARGS = """%s::bigint, %s::text, %s::timestamptz, %s::interval, %s::interval,
        %s::bigint, %s::numeric, %s::text, %s::text, %s::date, %s::text, %s::text,
        %s::timestamptz"""
COMMON_BEAT_PG_SQL = f"""
    SELECT o_outcome, o_progress_id, o_credited, o_quiz_passed, o_completed_at
    FROM learning_common_beat(%s::bigint, {_COMMON_BEAT_ARGS})
"""  # noqa: S608 (no value in the text: all are parameters)

# SESSION_AND_ACCESS_SQL and ``learning_common_beat`` in one statement, one round trip: the
# beat is recorded only when the session row's text, the person, the password hash, the
# active flag and the lesson's length are those a worker has checked
# (``access.CheckedSession``); otherwise the function is called with no person, finds no
# open session and writes nothing. Parameters: ACCESS_SQL's; the checked text, person,
# password hash and length; the common beat's arguments; the live row's.
SESSION_BEAT_PG_SQL = f"""
    SELECT s.session_data, a.*, c.matched,
        b.o_outcome, b.o_progress_id, b.o_credited, b.o_quiz_passed, b.o_completed_at
    FROM {_TABLES["signed_in"]} s
    LEFT JOIN ({ACCESS_SQL}) a ON 1 = 1
    CROSS JOIN LATERAL (
        SELECT COALESCE(
            s.session_data = %s AND a.person_id = %s AND a.password = %s AND a.is_active
                AND a.expected_seconds = %s AND NOT a.second_step,
            false
        ) AS matched
    ) c
    CROSS JOIN LATERAL learning_common_beat(
        CASE WHEN c.matched THEN a.person_id END, {_COMMON_BEAT_ARGS}
    ) b
    {_LIVE_SESSION}
"""  # noqa: S608 (table names from the models; values are parameters)


# --- Prepared statements ----------------------------------------------------------------------


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
        """What Django's query log reads (``DatabaseOperations.last_executed_query`` reads
        ``cursor._query.query``): the statement as written. psycopg keeps no query of its own
        for a prepared statement."""
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
