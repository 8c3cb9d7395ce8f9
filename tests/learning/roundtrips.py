"""Counting the times a test's code waits for PostgreSQL to answer (round trips)."""

from __future__ import annotations

import contextlib
from unittest import mock

from django.db import connection


@contextlib.contextmanager
def counting_round_trips():
    """Yield a dict whose ``"round_trips"`` counts every statement sent outside psycopg's
    pipeline mode (one each) and every pipeline sync (explicit, or on leaving the pipeline),
    and whose ``"statements"`` counts every statement. PostgreSQL only."""
    import psycopg

    counts = {"round_trips": 0, "statements": 0}
    sync, leave = psycopg.Pipeline.sync, psycopg.Pipeline.__exit__

    def count_statement(execute, sql, params, many, context):
        counts["statements"] += 1
        if connection.connection.info.pipeline_status == psycopg.pq.PipelineStatus.OFF:
            counts["round_trips"] += 1
        return execute(sql, params, many, context)

    def counted_sync(pipeline):
        counts["round_trips"] += 1
        return sync(pipeline)

    def counted_leave(pipeline, *exc_info):
        counts["round_trips"] += 1
        return leave(pipeline, *exc_info)

    with (
        connection.execute_wrapper(count_statement),
        mock.patch.object(psycopg.Pipeline, "sync", counted_sync),
        mock.patch.object(psycopg.Pipeline, "__exit__", counted_leave),
    ):
        yield counts
