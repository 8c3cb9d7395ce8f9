"""The per-beat cost: a fixed handful of queries, whatever the person's history."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest

from learning.heartbeat import store
from learning.heartbeat.rule import BeatRejected
from learning.models import LessonProgress, StudySession
from participation.models import ParticipationRecord
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
TAB = "tab-aaaaaaaa"


def beat(person, lesson, seconds: float, tab: str = TAB):
    return store.do_record_heartbeat(person, lesson, tab, T0 + dt.timedelta(seconds=seconds))


@pytest.fixture
def long_lessons(org):
    """Two lessons of a course the person is enrolled in, long enough never to be capped."""
    from learning.models import Enrollment

    course = make_course(lessons=2, expected=100_000)
    Enrollment.objects.create(person=org.person, course=course)
    return lessons_of(course)


def history(person, lessons, days: int = 20) -> None:
    """``days`` past sittings of 10 minutes over ``lessons``, as the beats would leave them."""
    for day in range(1, days + 1):
        start = -day * 86_400
        for step in range(0, 601, 15):
            beat(person, lessons[day % len(lessons)], start + step, tab=f"tab-day-{day:04d}")


def test_a_beat_extending_its_session_takes_at_most_six_queries(
    org, long_lessons, django_assert_max_num_queries
):
    lessons = long_lessons
    history(org.person, lessons)
    for second in (0, 15, 30):
        beat(org.person, lessons[0], second)
    # Savepoint, person lock (not on SQLite), session with progress, two UPDATEs, release.
    with django_assert_max_num_queries(6):
        progress = beat(org.person, lessons[0], 45)
    assert progress.credited_seconds == 45 + 10 * 600
    assert LessonProgress.objects.get(lesson=lessons[0]).credited_seconds == 45 + 10 * 600


def test_a_beat_completing_a_minute_also_writes_the_ledger(
    org, lesson, django_assert_max_num_queries
):
    for second in (0, 15, 30, 45):
        beat(org.person, lesson, second)
    with django_assert_max_num_queries(8):
        beat(org.person, lesson, 60)
    record = ParticipationRecord.objects.get(requirement_key=f"lesson:{lesson.pk}")
    assert record.minutes == 1


def test_a_minute_not_completed_leaves_the_ledger_alone(org, lesson):
    def ledger_written(second: int) -> bool:
        before = ParticipationRecord.objects.get(requirement_key=f"lesson:{lesson.pk}")
        beat(org.person, lesson, second)
        after = ParticipationRecord.objects.get(requirement_key=f"lesson:{lesson.pk}")
        return after.updated_at != before.updated_at

    for second in (0, 15, 30, 45, 60):
        beat(org.person, lesson, second)  # the ledger row exists after the first minute
    assert not ledger_written(75)
    assert not ledger_written(90)
    assert not ledger_written(105)
    assert ledger_written(120)
    assert ParticipationRecord.objects.get(requirement_key=f"lesson:{lesson.pk}").minutes == 2


def test_a_lone_tab_credits_all_sessions_again_only_once_a_sitting(org, long_lessons):
    lesson = long_lessons[0]
    with mock.patch.object(store, "_recompute_credit", wraps=store._recompute_credit) as recompute:
        for step in range(0, 301, 15):
            beat(org.person, lesson, step)
        assert recompute.call_count == 1  # the second beat: the session's first whole seconds
        for step in range(1000, 1301, 15):  # a second sitting after a long gap
            beat(org.person, lesson, step)
        assert recompute.call_count == 2
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 600


def test_overlapping_tabs_fall_back_to_crediting_everything_again(
    org, long_lessons, django_assert_max_num_queries
):
    lessons = long_lessons
    history(org.person, lessons)
    for second in (0, 15, 30):
        beat(org.person, lessons[0], second)
        beat(org.person, lessons[1], second + 2, tab="tab-bbbbbbbb")
    with mock.patch.object(store, "_recompute_credit", wraps=store._recompute_credit) as recompute:
        # The common path's read, given up (savepoint, lock, read, rollback, release); the
        # general path's five; then all sessions, progress rows, two changed lessons.
        with django_assert_max_num_queries(14):
            beat(org.person, lessons[0], 45)
        recompute.assert_called_once()
    credited = dict(LessonProgress.objects.values_list("lesson_id", "credited_seconds"))
    assert credited == store.credited_for_person(org.person)
    assert credited[lessons[0].pk] + credited[lessons[1].pk] == 12_000 + 45


def test_the_heartbeat_request_takes_at_most_nine_queries(
    client, org, lesson, django_assert_max_num_queries
):
    client.force_login(org.learner)
    body = json.dumps({"lesson": lesson.pk, "tab": TAB})
    assert (
        client.post("/learning/heartbeat/", body, content_type="application/json").status_code
        == 200
    )
    first = StudySession.objects.get()
    StudySession.objects.update(
        started_at=first.started_at - dt.timedelta(seconds=30),
        last_beat_at=first.last_beat_at - dt.timedelta(seconds=15),
    )
    LessonProgress.objects.update(credited_seconds=store.credited_for_person(org.person)[lesson.pk])
    # Session, user, lesson with enrollment, then the service's six at most.
    with django_assert_max_num_queries(9):
        response = client.post("/learning/heartbeat/", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["credited_seconds"] >= 29


def test_an_unpublished_lesson_is_not_credited(client, org, lesson):
    lesson.unpublish()
    client.force_login(org.learner)
    body = json.dumps({"lesson": lesson.pk, "tab": TAB})
    response = client.post("/learning/heartbeat/", body, content_type="application/json")
    assert response.status_code == 404
    assert not StudySession.objects.exists()


def test_a_lesson_of_no_expected_length_and_no_quiz_completes_at_its_first_beat(org):
    from learning.models import Enrollment

    course = make_course(lessons=1, quiz=False, expected=0)
    Enrollment.objects.create(person=org.person, course=course)
    lesson = lessons_of(course)[0]
    assert beat(org.person, lesson, 0).completed_at is not None


def test_a_common_beat_is_one_call_on_postgresql(org, lesson):
    from django.db import connection

    from tests.learning.roundtrips import counting_round_trips

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs in process: its statements go one by one")
    for second in (0, 15, 30):
        beat(org.person, lesson, second)
    # learning_common_beat, between the savepoint and release of the test's transaction.
    with counting_round_trips() as counted:
        progress = beat(org.person, lesson, 45)
    assert counted == {"round_trips": 3, "statements": 3}
    assert progress.credited_seconds == 45
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 45


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_common_beats_commit_on_their_own_and_leave_no_transaction_open(org, lesson):
    """Outside any transaction the common path brackets its batches itself (BEGIN/COMMIT on
    PostgreSQL); a rejected beat rolls back and leaves the connection usable."""
    from django.db import connection

    for second in (0, 15, 30, 45, 60):
        beat(org.person, lesson, second)
    assert not connection.in_atomic_block
    with pytest.raises(BeatRejected):
        beat(org.person, lesson, 62)
    if connection.vendor == "postgresql":
        from tests.learning.roundtrips import counting_round_trips

        with counting_round_trips() as counted:
            answer = store.record_common_beat(
                org.person.pk,
                lesson.pk,
                lesson.expected_seconds,
                TAB,
                T0 + dt.timedelta(seconds=75),
            )
        assert counted == {"round_trips": 1, "statements": 1}  # the call is its transaction
        assert connection.connection.info.transaction_status == 0  # idle: committed
    else:
        answer = store.record_common_beat(
            org.person.pk, lesson.pk, lesson.expected_seconds, TAB, T0 + dt.timedelta(seconds=75)
        )
    assert answer is not None and answer.credited_seconds == 75
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 75
    assert StudySession.objects.get(tab=TAB).last_beat_at == T0 + dt.timedelta(seconds=75)
    assert ParticipationRecord.objects.get(requirement_key=f"lesson:{lesson.pk}").minutes == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_error_in_a_common_beat_rolls_back_and_leaves_the_connection_usable(org, lesson):
    from django.db import DatabaseError, connection

    for second in (0, 15, 30):
        beat(org.person, lesson, second)
    broken = store.OPEN_SESSION_WITH_LEDGER_SQL.replace("SELECT s.id", "SELECT s.no_such", 1)
    broken_call = store.COMMON_BEAT_PG_SQL.replace("o_outcome,", "no_such,", 1)
    with (
        mock.patch.object(store, "OPEN_SESSION_WITH_LEDGER_SQL", broken),
        mock.patch.object(store, "COMMON_BEAT_PG_SQL", broken_call),
    ):
        with pytest.raises(DatabaseError):
            store.record_common_beat(
                org.person.pk,
                lesson.pk,
                lesson.expected_seconds,
                TAB,
                T0 + dt.timedelta(seconds=45),
            )
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == 0  # idle: rolled back
    assert StudySession.objects.get(tab=TAB).last_beat_at == T0 + dt.timedelta(seconds=30)
    assert beat(org.person, lesson, 45).credited_seconds == 45
