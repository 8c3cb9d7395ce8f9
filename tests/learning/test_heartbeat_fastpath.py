"""The heartbeat's short way through the middleware (learning/heartbeat/middleware.py): it
answers ordinary beats itself, and every beat it cannot vouch for goes the full way with the
full answer."""

from __future__ import annotations

import datetime as dt
import json
import time
from unittest import mock

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from learning.heartbeat import access
from learning.heartbeat import middleware as fastpath
from learning.heartbeat import store as heartbeat_store
from learning.models import LessonProgress, StudySession
from lib.session_store import SessionStore
from participation.models import ParticipationRecord
from people.middleware import LAST_ACTIVITY_KEY
from people.roles import Role
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

TAB = "tab-fastpath"
URL = "/learning/heartbeat/"


def post(client, body, **extra):
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def signed_in(client, org):
    client.force_login(org.learner)
    return client


@pytest.fixture
def full_way():
    """Counts the beats that reached the full stack's view."""
    with mock.patch.object(
        access, "access_lesson_for_heartbeat", wraps=access.access_lesson_for_heartbeat
    ) as spy:
        yield spy


def backdate_first_beat() -> None:
    """Make the tab's session one that began 30 s ago and last beat 15 s ago, with its credit
    stored: the next beat is the common one, extending an open session."""
    first = StudySession.objects.get()
    StudySession.objects.update(
        started_at=first.started_at - dt.timedelta(seconds=30),
        last_beat_at=first.last_beat_at - dt.timedelta(seconds=15),
    )
    person = first.person
    credited = heartbeat_store.credited_for_person(person)[first.lesson_id]
    LessonProgress.objects.filter(person=person).update(credited_seconds=credited)


def session_of(client) -> dict:
    return SessionStore(client.cookies["sessionid"].value).load()


def test_an_ordinary_beat_is_answered_without_the_full_stack(signed_in, lesson, full_way):
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    backdate_first_beat()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert response.json()["credited_seconds"] in (29, 30)  # whole seconds only
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds in (29, 30)
    full_way.assert_not_called()


def test_a_common_beat_takes_one_round_trip_on_postgresql_five_statements_on_sqlite(
    signed_in, lesson, django_assert_num_queries
):
    post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    backdate_first_beat()
    # On PostgreSQL the worker has checked this session for this lesson at the first beat, so
    # one statement reads the session row with the lesson, enrollment and user and records
    # the beat (here inside the test's transaction, so between a savepoint and its release).
    # On SQLite: the session row with the lesson, enrollment and user, then savepoint, session
    # with progress, two UPDATEs, release.
    if connection.vendor == "postgresql":
        from tests.learning.roundtrips import counting_round_trips

        with counting_round_trips() as counted:
            assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
        assert counted == {"round_trips": 1 + 2, "statements": 1 + 2}
    else:
        with django_assert_num_queries(6):
            assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200


def test_the_first_beat_of_a_session_reads_its_user_then_the_enrollment(signed_in, lesson):
    fastpath._CHECKED.clear()
    with mock.patch.object(
        access, "access_row_for_user_id", wraps=access.access_row_for_user_id
    ) as second_read:
        assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
        assert second_read.call_count == 1
        backdate_first_beat()
        assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
        assert second_read.call_count == 1  # the hint: one query for session and enrollment


def test_a_hint_naming_another_user_is_not_trusted(signed_in, org, lesson):
    from dataclasses import replace

    post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    key = signed_in.cookies["sessionid"].value
    # The hint (the user last checked) names another user: enrolled too? never mind.
    fastpath._CHECKED[key] = replace(fastpath._CHECKED[key], user_id=org.other_learner.pk)
    backdate_first_beat()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert fastpath._CHECKED[key].user_id == org.learner.pk
    assert StudySession.objects.get().person == org.person


def test_a_failed_read_drops_the_connection_and_the_full_way_answers(signed_in, lesson, full_way):
    from django.db import DatabaseError

    with (
        mock.patch.object(access, "session_and_access_row", side_effect=DatabaseError("gone")),
        mock.patch.object(connection, "close") as close,
    ):
        assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    close.assert_called_once()
    full_way.assert_called_once()


def test_it_keeps_the_headers_of_a_signed_in_answer(signed_in, lesson):
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response


def test_too_fast_is_refused_on_the_fast_path_too(signed_in, lesson, full_way):
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 429
    assert response.json() == {"error": "too_fast"}
    full_way.assert_not_called()


def test_a_paused_video_only_reads(signed_in, lesson):
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB, "playing": False})
    assert response.status_code == 200
    assert not StudySession.objects.exists()


def test_a_signed_out_session_stops_beats_at_once(signed_in, lesson):
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    cookie = signed_in.cookies["sessionid"].value
    signed_in.post("/accounts/logout/")
    stale = Client()
    stale.cookies["sessionid"] = cookie  # a second tab still holding the old cookie
    backdate_first_beat()
    before = StudySession.objects.get().last_beat_at
    response = post(stale, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 403
    assert response.json() == {"error": "not_signed_in"}
    assert StudySession.objects.get().last_beat_at == before


def test_without_a_session_the_full_way_answers(client, lesson, full_way):
    response = post(client, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 403
    assert not StudySession.objects.exists()


def test_a_changed_password_ends_the_session(signed_in, org, lesson):
    org.learner.set_password("a-new-password-2026")
    org.learner.save()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 403
    assert not StudySession.objects.exists()
    assert not Session.objects.exists()  # flushed by the full way, as Django does


def test_an_inactive_user_is_refused(signed_in, org, lesson):
    org.learner.is_active = False
    org.learner.save(update_fields=["is_active"])
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 403
    assert not StudySession.objects.exists()


def test_another_persons_lesson_is_not_found(client, org, lesson, full_way):
    client.force_login(org.other_learner)
    assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 404
    full_way.assert_called_once()
    assert not StudySession.objects.exists()


def test_a_malformed_beat_goes_the_full_way(signed_in, lesson, full_way):
    response = post(signed_in, {"lesson": lesson.pk, "tab": "short"})
    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert not StudySession.objects.exists()


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
def test_csrf_and_origin_are_checked_first(org, lesson, origin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner)
    extra = {}
    if origin:
        client.get("/")  # a CSRF cookie
        token = client.cookies["csrftoken"].value
        extra = {"HTTP_X_CSRFTOKEN": token, "HTTP_ORIGIN": origin}
    response = post(client, {"lesson": lesson.pk, "tab": TAB}, **extra)
    assert response.status_code == 403
    assert not StudySession.objects.exists()


def test_a_valid_csrf_token_passes(org, lesson):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner)
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = post(client, {"lesson": lesson.pk, "tab": TAB}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_an_idle_session_is_signed_out_by_the_full_way(signed_in, lesson):
    store = SessionStore(signed_in.cookies["sessionid"].value)
    store[LAST_ACTIVITY_KEY] = int(time.time()) - 31 * 60
    store.save()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 302  # to the sign-in page, as every idle request
    assert not StudySession.objects.exists()


def test_the_idle_clock_is_touched_once_a_minute(signed_in, lesson):
    store = SessionStore(signed_in.cookies["sessionid"].value)
    store[LAST_ACTIVITY_KEY] = int(time.time()) - 90
    store.save()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert session_of(signed_in)[LAST_ACTIVITY_KEY] >= int(time.time()) - 2
    assert "sessionid" in response.cookies  # the cookie's expiry moves on, as Django does


def test_a_recent_idle_clock_is_not_written(signed_in, lesson, django_assert_max_num_queries):
    post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    before = Session.objects.get().session_data
    backdate_first_beat()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert Session.objects.get().session_data == before


def test_the_beacon_form_still_goes_the_full_way(signed_in, lesson, full_way):
    response = signed_in.post(URL, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    full_way.assert_called_once()


# --- A worker's check of a session, and the beat recorded with the session's read -----------
# On PostgreSQL, once a worker has checked a session for a lesson, the next beat's read of the
# session row also records the beat, but only when the rows read are still those checked.
# Each change below must make that read record nothing and the beat get the answer it gets
# without the check (on SQLite these run the ordinary way and pin the same answers).


def first_beat_checked(client, lesson) -> str:
    """A first beat (the worker checks the session), then the tab 15 s on: its session key."""
    assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    backdate_first_beat()
    return client.cookies["sessionid"].value


@pytest.fixture
def recorded_in_read():
    """Counts the beats a session's read recorded (PostgreSQL)."""
    outcomes = []
    real = heartbeat_store.session_beat

    def spy(*args, **kwargs):
        found = real(*args, **kwargs)
        outcomes.append(found is not None and found.matched)
        return found

    with mock.patch.object(heartbeat_store, "session_beat", spy):
        yield outcomes


def test_a_checked_session_beats_in_its_read(signed_in, lesson, recorded_in_read, full_way):
    first_beat_checked(signed_in, lesson)
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert response.json()["credited_seconds"] in (29, 30)
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds in (29, 30)
    expected = [True] if connection.vendor == "postgresql" else []
    assert recorded_in_read == expected
    full_way.assert_not_called()


def test_a_beat_recorded_in_the_read_is_still_refused_when_too_fast(
    signed_in, lesson, recorded_in_read
):
    first_beat_checked(signed_in, lesson)
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    before = StudySession.objects.get().last_beat_at
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 429
    assert response.json() == {"error": "too_fast"}
    assert StudySession.objects.get().last_beat_at == before


def test_a_signed_out_session_is_not_beaten_by_its_check(signed_in, lesson, recorded_in_read):
    cookie = first_beat_checked(signed_in, lesson)
    signed_in.post("/accounts/logout/")
    stale = Client()
    stale.cookies["sessionid"] = cookie
    before = StudySession.objects.get().last_beat_at
    assert post(stale, {"lesson": lesson.pk, "tab": TAB}).status_code == 403
    assert StudySession.objects.get().last_beat_at == before
    assert True not in recorded_in_read


def test_a_changed_password_is_not_beaten_by_the_check(signed_in, org, lesson, recorded_in_read):
    first_beat_checked(signed_in, lesson)
    before = StudySession.objects.get().last_beat_at
    org.learner.set_password("a-new-password-2026")
    org.learner.save()
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 403
    assert StudySession.objects.get().last_beat_at == before
    assert not Session.objects.exists()
    assert True not in recorded_in_read


def deactivate_the_learner(org, lesson) -> None:
    org.learner.is_active = False
    org.learner.save(update_fields=["is_active"])


def withdraw_the_enrollment(org, lesson) -> None:
    from learning.models import Enrollment

    Enrollment.objects.filter(person=org.person).delete()


def unpublish_the_lesson(org, lesson) -> None:
    lesson.unpublish()


@pytest.mark.parametrize(
    ("change", "status"),
    [(deactivate_the_learner, 403), (withdraw_the_enrollment, 404), (unpublish_the_lesson, 404)],
)
def test_a_change_after_the_check_is_not_beaten_by_it(
    signed_in, org, lesson, recorded_in_read, change, status
):
    first_beat_checked(signed_in, lesson)
    before = StudySession.objects.get().last_beat_at
    change(org, lesson)
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == status
    assert StudySession.objects.get().last_beat_at == before
    assert True not in recorded_in_read


def test_a_changed_lesson_length_is_read_again(signed_in, lesson, recorded_in_read):
    from courses.models import LessonPage

    first_beat_checked(signed_in, lesson)
    LessonPage.objects.filter(pk=lesson.pk).update(expected_seconds=lesson.expected_seconds + 60)
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert response.json()["expected_seconds"] == lesson.expected_seconds + 60
    assert True not in recorded_in_read


def test_a_session_gone_idle_is_signed_out_despite_the_check(signed_in, lesson, recorded_in_read):
    first_beat_checked(signed_in, lesson)
    before = StudySession.objects.get().last_beat_at
    later = time.time() + 31 * 60  # the worker's copy of the session is now idle too
    with mock.patch.object(fastpath.time, "time", return_value=later):
        response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code in (302, 403)  # signed out by the full way
    assert StudySession.objects.get().last_beat_at == before
    assert recorded_in_read == []  # the read did not even try


def test_a_session_changed_elsewhere_is_read_and_checked_again(signed_in, lesson, recorded_in_read):
    key = first_beat_checked(signed_in, lesson)
    store = SessionStore(key)
    store[LAST_ACTIVITY_KEY] = int(time.time()) - 5  # another worker touched the idle clock
    store.save()
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert response.json()["credited_seconds"] in (29, 30)
    assert True not in recorded_in_read
    if connection.vendor == "postgresql":
        assert fastpath._CHECKED[key].text == Session.objects.get().session_data


def test_a_claim_naming_another_user_is_not_used(signed_in, org, lesson, recorded_in_read):
    from dataclasses import replace

    key = first_beat_checked(signed_in, lesson)
    if key in fastpath._CHECKED:
        fastpath._CHECKED[key] = replace(
            fastpath._CHECKED[key],
            user_id=org.other_learner.pk,
            person_id=org.other_person.pk,
            password=org.other_learner.password,
        )
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    assert recorded_in_read == []
    assert {s.person for s in StudySession.objects.all()} == {org.person}


def test_the_idle_clock_touched_in_a_beat_keeps_the_check(signed_in, lesson, recorded_in_read):
    key = first_beat_checked(signed_in, lesson)
    store = SessionStore(key)
    store[LAST_ACTIVITY_KEY] = int(time.time()) - 90
    store.save()
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200  # touches
    StudySession.objects.update(last_beat_at=F("last_beat_at") - dt.timedelta(seconds=15))
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    expected = [False, True] if connection.vendor == "postgresql" else []
    assert recorded_in_read == expected  # the text written by the touch is the next claim


# --- The session engine (lib/session_store.py) ----------------------------------------------


def test_the_session_engine_reads_and_writes_like_djangos(db):
    store = SessionStore()
    store["a"] = 1
    store.create()
    store.save()
    again = SessionStore(store.session_key)
    assert again["a"] == 1
    again["a"] = 2
    again.save()
    assert SessionStore(store.session_key)["a"] == 2


def test_an_expired_session_is_not_loaded(db):
    store = SessionStore()
    store["a"] = 1
    store.create()
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    again = SessionStore(store.session_key)
    assert again.load() == {}
    assert again.session_key is None


def test_saving_a_deleted_session_raises_update_error(db):
    store = SessionStore()
    store["a"] = 1
    store.create()
    Session.objects.all().delete()
    store["a"] = 2
    with pytest.raises(UpdateError):
        store.save()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_a_save_commits_and_a_deleted_session_still_raises():
    """On PostgreSQL the update goes in one batch with its own commit (see lib.session_store)."""
    from django.db import connection

    store = SessionStore()
    store["a"] = 1
    store.create()
    store["a"] = 2
    store.save()
    assert SessionStore(store.session_key)["a"] == 2
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == 0  # idle: committed
    Session.objects.all().delete()
    store["a"] = 3
    with pytest.raises(UpdateError):
        store.save()


def test_a_malformed_session_key_loads_nothing(db):
    assert SessionStore("short").load() == {}


# --- The ledger's one-statement update (store.record_participation) ----------------------


def test_this_months_ledger_row_counts_only_minutes_not_counted_earlier(org, lesson):
    march = dt.datetime(2026, 3, 31, 15, 50, tzinfo=dt.UTC)  # 23:50 in Shanghai
    for step in range(0, 181, 15):
        heartbeat_store.do_record_heartbeat(
            org.person, lesson, TAB, march + dt.timedelta(seconds=step)
        )
    april = march + dt.timedelta(minutes=11)  # 00:01 in Shanghai, 1 April
    for step in range(0, 121, 15):
        heartbeat_store.do_record_heartbeat(
            org.person, lesson, "tab-april-1", april + dt.timedelta(seconds=step)
        )
    minutes = dict(
        ParticipationRecord.objects.filter(person=org.person).values_list("period", "minutes")
    )
    assert minutes == {dt.date(2026, 3, 1): 3, dt.date(2026, 4, 1): 2}


def test_a_ledger_row_never_goes_below_zero(org, lesson):
    at = dt.datetime(2026, 4, 2, 2, 0, tzinfo=dt.UTC)
    for step in range(0, 61, 15):
        heartbeat_store.do_record_heartbeat(
            org.person, lesson, TAB, at + dt.timedelta(seconds=step)
        )
    ParticipationRecord.objects.create(
        person=org.person,
        period=dt.date(2026, 3, 1),
        source="lesson",
        requirement_key=f"lesson:{lesson.pk}",
        minutes=50,
    )
    for step in range(75, 136, 15):
        heartbeat_store.do_record_heartbeat(
            org.person, lesson, TAB, at + dt.timedelta(seconds=step)
        )
    row = ParticipationRecord.objects.get(period=dt.date(2026, 4, 1))
    assert row.minutes == 0


def test_a_staff_session_without_the_second_step_takes_no_short_way(client, org, lesson):
    """A learner's account that also holds a staff role needs the second step: the short way
    never answers its beats, and the full stack refuses them until it is passed."""
    org.learner.groups.add(org.lecturer.groups.get(name=Role.LECTURER))
    client.force_login(org.learner)
    for _ in range(2):
        response = post(client, {"lesson": lesson.pk, "tab": TAB})
        assert response.status_code == 403
        assert response.json()["error"] == "two_factor_required"
    assert not StudySession.objects.exists()
    login_staff(client, org.learner)
    with mock.patch.object(
        access, "access_lesson_for_heartbeat", wraps=access.access_lesson_for_heartbeat
    ) as full:
        assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    full.assert_called_once()  # the full stack checked the second step


def test_a_staff_role_given_during_a_checked_session_stops_the_short_way(signed_in, org, lesson):
    assert post(signed_in, {"lesson": lesson.pk, "tab": TAB}).status_code == 200
    backdate_first_beat()
    org.learner.groups.add(org.lecturer.groups.get(name=Role.LECTURER))
    response = post(signed_in, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 403
