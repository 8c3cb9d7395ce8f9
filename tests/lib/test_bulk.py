"""``lib.bulk``: set-based inserts and updates store what the ORM would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lib.bulk import insert_rows, update_rows
from live.models import AttendancePolicy

pytestmark = pytest.mark.django_db


def test_inserted_rows_hold_the_values_and_the_other_fields_defaults():
    before = timezone.now()
    count = insert_rows(
        AttendancePolicy,
        ["version", "rules", "note"],
        [(101, {"a": [1, 2]}, "first"), (102, {"b": None}, "")],
    )
    assert count == 2
    first, second = AttendancePolicy.objects.filter(version__gt=100).order_by("version")
    assert (first.rules, first.note, first.active, first.created_by) == (
        {"a": [1, 2]},
        "first",
        False,
        None,
    )
    assert second.rules == {"b": None}
    assert first.created_at >= before  # a callable default, evaluated for the rows


def test_updates_set_each_row_s_values_even_a_null_throughout():
    when = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    insert_rows(AttendancePolicy, ["version", "rules"], [(201, {}), (202, {})])
    ids = dict(AttendancePolicy.objects.filter(version__gt=200).values_list("version", "pk"))
    updated = update_rows(
        AttendancePolicy,
        ["rules", "note", "created_at", "created_by"],
        [(ids[201], {"x": 1}, "one", when, None), (ids[202], {"y": "二"}, "two", when, None)],
    )
    assert updated == 2
    rows = AttendancePolicy.objects.filter(version__gt=200).order_by("version")
    assert [(r.rules, r.note, r.created_at, r.created_by_id) for r in rows] == [
        ({"x": 1}, "one", when, None),
        ({"y": "二"}, "two", when, None),
    ]


def test_nothing_to_write_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_rows(AttendancePolicy, ["version", "rules"], []) == 0
        assert update_rows(AttendancePolicy, ["rules"], []) == 0
