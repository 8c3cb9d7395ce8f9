"""The database session path credits exactly what ``participation.crediting.credit`` computes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning.heartbeat import store
from learning.heartbeat.rule import BeatRejected
from learning.models import LessonProgress, StudySession
from participation.crediting import credit

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
TABS = ["tab-aaaaaaaa", "tab-bbbbbbbb"]

beats_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1),  # lesson index
        st.integers(min_value=0, max_value=1),  # tab index
        st.integers(min_value=1, max_value=45),  # seconds after the previous beat (any tab)
        st.integers(min_value=0, max_value=999_999),  # microseconds
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=beats_strategy)
def test_db_sessions_credit_exactly_what_credit_computes(org, lessons, steps):
    StudySession.objects.all().delete()
    LessonProgress.objects.all().delete()
    expected = {lesson.pk: lesson.expected_seconds for lesson in lessons}
    accepted = []
    at = T0
    for lesson_index, tab_index, gap, micro in steps:
        at = at + dt.timedelta(seconds=gap, microseconds=micro)
        lesson = lessons[lesson_index]
        try:
            store.do_record_heartbeat(org.person, lesson, TABS[tab_index], at)
        except BeatRejected:
            continue
        accepted.append({"lesson": lesson.pk, "tab": TABS[tab_index], "at": at})
    want = credit(accepted, expected)
    got = dict(
        LessonProgress.objects.filter(person=org.person).values_list(
            "lesson_id", "credited_seconds"
        )
    )
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    assert store.credited_for_person(org.person) == want


@pytest.mark.django_db
def test_each_beat_updates_one_open_row(org, lesson, django_assert_max_num_queries):
    store.do_record_heartbeat(org.person, lesson, "tab-aaaaaaaa", T0)
    for i in range(1, 6):
        store.do_record_heartbeat(
            org.person, lesson, "tab-aaaaaaaa", T0 + dt.timedelta(seconds=15 * i)
        )
    assert StudySession.objects.count() == 1
    with django_assert_max_num_queries(15):
        store.do_record_heartbeat(
            org.person, lesson, "tab-aaaaaaaa", T0 + dt.timedelta(seconds=100)
        )
