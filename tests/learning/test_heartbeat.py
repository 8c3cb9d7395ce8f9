from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from learning.heartbeat import store
from learning.heartbeat.rule import BeatRejected
from learning.models import Enrollment, LessonProgress, StudySession
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db

TAB = "tab-aaaaaaaa"
T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def post(client, body, **extra):
    return client.post(
        "/learning/heartbeat/", json.dumps(body), content_type="application/json", **extra
    )


def test_it_records_a_beat_and_answers_credited_seconds(client, org, lesson):
    client.force_login(org.learner)
    response = post(client, {"lesson": lesson.pk, "tab": TAB})
    assert response.status_code == 200
    assert response.json()["credited_seconds"] == 0
    assert StudySession.objects.filter(person=org.person, lesson=lesson).count() == 1


def test_it_credits_time_between_server_stamped_beats(org, lesson):
    store.do_record_heartbeat(org.person, lesson, TAB, T0)
    progress = store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=15))
    assert progress.credited_seconds == 15
    assert StudySession.objects.get().span_seconds == 15


def test_it_rejects_beats_faster_than_every_five_seconds(client, org, lesson):
    store.do_record_heartbeat(org.person, lesson, TAB, T0)
    with pytest.raises(BeatRejected):
        store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=4))
    assert StudySession.objects.get().last_beat_at == T0
    client.force_login(org.learner)
    assert post(client, {"lesson": lesson.pk, "tab": "tab-bbbbbbbb"}).status_code == 200
    response = post(client, {"lesson": lesson.pk, "tab": "tab-bbbbbbbb"})
    assert response.status_code == 429
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 0


def test_a_gap_over_thirty_seconds_closes_the_session(org, lesson):
    store.do_record_heartbeat(org.person, lesson, TAB, T0)
    store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=20))
    progress = store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=60))
    assert progress.credited_seconds == 20
    assert list(StudySession.objects.order_by("pk").values_list("is_open", flat=True)) == [
        False,
        True,
    ]


def test_two_tabs_overlapping_are_credited_once(org, lesson):
    for second in (0, 15, 30):
        at = T0 + dt.timedelta(seconds=second)
        store.do_record_heartbeat(org.person, lesson, "tab-one-111", at)
        store.do_record_heartbeat(org.person, lesson, "tab-two-222", at)
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 30


def test_two_lessons_at_once_are_credited_once(org, lessons):
    for second in (0, 15, 30):
        at = T0 + dt.timedelta(seconds=second)
        store.do_record_heartbeat(org.person, lessons[0], TAB, at)
        store.do_record_heartbeat(org.person, lessons[1], TAB, at)
    credited = dict(LessonProgress.objects.values_list("lesson_id", "credited_seconds"))
    assert sum(credited.values()) == 30


def test_credit_is_capped_at_one_and_a_half_times_the_lesson(org, lesson):
    for beat in range(0, 40):  # 39 × 15 s = 585 s of beats for a 300 s lesson
        store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=15 * beat))
    assert LessonProgress.objects.get(lesson=lesson).credited_seconds == 450


def test_it_ignores_a_lesson_the_person_is_not_enrolled_in(client, org):
    other = lessons_of(make_course(lessons=1))[0]
    client.force_login(org.learner)
    assert post(client, {"lesson": other.pk, "tab": TAB}).status_code == 404
    assert not StudySession.objects.exists()


def test_another_users_lesson_is_ignored(client, org, lesson):
    client.force_login(org.other_learner)
    assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 404
    assert not StudySession.objects.exists()


def test_an_unpublished_course_is_not_credited(client, org, course, lesson):
    course.unpublish()
    client.force_login(org.learner)
    assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"lesson": "x", "tab": "tab-aaaaaaaa"}',
        b'{"lesson": 1}',
        b'{"lesson": 1, "tab": "bad tab!"}',
        b'{"lesson": 1.5, "tab": "tab-aaaaaaaa"}',
        b'{"lesson": true, "tab": "tab-aaaaaaaa"}',
    ],
)
def test_malformed_bodies_are_rejected(client, org, lesson, body):
    client.force_login(org.learner)
    response = client.post("/learning/heartbeat/", body, content_type="application/json")
    assert response.status_code == 400
    assert not StudySession.objects.exists()


def test_unknown_lesson_is_404(client, org, lesson):
    client.force_login(org.learner)
    assert post(client, {"lesson": 987654, "tab": TAB}).status_code == 404


def test_a_client_clock_in_the_body_is_ignored(client, org, lesson):
    client.force_login(org.learner)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert post(client, {"lesson": lesson.pk, "tab": TAB, "at": future}).status_code == 200
    session = StudySession.objects.get()
    assert session.last_beat_at <= timezone.now()


def test_a_paused_video_beat_is_not_recorded(client, org, lesson):
    client.force_login(org.learner)
    assert post(client, {"lesson": lesson.pk, "tab": TAB, "playing": False}).status_code == 200
    assert not StudySession.objects.exists()


def test_a_beacon_form_body_with_the_csrf_field_is_accepted(org, lesson):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner)
    client.get(lesson.url)
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/learning/heartbeat/",
        {"lesson": str(lesson.pk), "tab": TAB, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert client.post("/learning/heartbeat/", {"lesson": lesson.pk, "tab": TAB}).status_code == 403


def test_anonymous_heartbeat_is_refused(client, lesson):
    assert post(client, {"lesson": lesson.pk, "tab": TAB}).status_code == 403
    assert client.get("/learning/heartbeat/").status_code == 405


def test_enrollment_visible_to_delegates_to_person_scope(org, course):
    assert Enrollment.objects.visible_to(org.learner).count() == 1
    assert Enrollment.objects.visible_to(org.other_learner).count() == 0
    assert Enrollment.objects.visible_to(org.officer).count() == 1
    assert Enrollment.objects.visible_to(org.other_officer).count() == 0
