"""``learning.heartbeat.statements.prepared_cursor`` on PostgreSQL: statements prepared, and
still in Django's query log as written (DEBUG, ``django_assert_num_queries``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learning.heartbeat.statements import prepared_cursor

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only"),
]

STATEMENT = "SELECT %s + 1"


def test_a_prepared_statement_answers_and_is_logged_as_written():
    with CaptureQueriesContext(connection) as captured:
        for _ in range(2):  # prepared at the first run, the prepared one at the second
            with prepared_cursor() as cursor:
                cursor.execute(STATEMENT, [41])
                assert cursor.fetchone() == (42,)
    logged = [query["sql"] for query in captured.captured_queries]
    assert logged == [STATEMENT, STATEMENT], (
        "Django's query log no longer reads the statement from the cursor's `_query.query` "
        "(django.db.backends.postgresql.operations.DatabaseOperations.last_executed_query), "
        "which learning.heartbeat.statements._Preparing provides: give it what Django reads now."
    )
