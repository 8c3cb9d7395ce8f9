"""Fuzzing the learner's write endpoints: heartbeats (JSON and beacon form), quiz answers and
questionnaire answers. 1,000 examples each; no 5xx, and nothing invalid is stored."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from assessments.models import Response, Result
from learning.models import Enrollment, LessonProgress, QuizAttempt, StudySession
from people.privacy import do_acknowledge
from tests.assessments.helpers import assign, load
from tests.learning.builders import lessons_of, make_course
from tests.security.test_fuzz import COUNTS, FUZZ, fuzz_summary, seen  # noqa: F401

pytestmark = pytest.mark.slow
# fuzz_summary (imported) prints the running total of every fuzz module at its end.

any_text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture
def enrolled(org):
    course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    other = make_course(lessons=1)  # not enrolled: must never be credited
    return lessons_of(course)[0], lessons_of(other)[0]


def learner_client(org) -> Client:
    client = Client(raise_request_exception=False, enforce_csrf_checks=False)
    client.force_login(org.learner)
    return client


def test_heartbeat_json_never_fails_and_never_credits_bad_beats(org, enrolled):
    lesson, foreign = enrolled
    client = learner_client(org)
    bodies = st.one_of(
        json_values.map(json.dumps),
        st.fixed_dictionaries(
            {"lesson": st.one_of(st.integers(), any_text, st.just(foreign.pk)), "tab": any_text},
            optional={"playing": json_values, "at": json_values},
        ).map(json.dumps),
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    )

    @FUZZ
    @given(body=bodies)
    def run(body):
        response = seen(client.post("/learning/heartbeat/", body, content_type="application/json"))
        assert response.status_code < 500
        assert not StudySession.objects.filter(lesson_id=foreign.pk).exists()

    run()
    # Only beats for the enrolled lesson may exist, and none can hold credit: every accepted
    # beat of a fresh tab opens a session, and no two came 5 s apart on the server clock.
    assert set(StudySession.objects.values_list("lesson_id", flat=True)) <= {lesson.pk}
    assert all(p.credited_seconds == 0 for p in LessonProgress.objects.all())


def test_heartbeat_beacon_form_bodies(org, enrolled):
    lesson, foreign = enrolled
    client = learner_client(org)

    @FUZZ
    @given(
        data=st.dictionaries(
            st.sampled_from(["lesson", "tab", "playing", "csrfmiddlewaretoken", "x"]),
            st.one_of(any_text, st.integers().map(str), st.just(str(foreign.pk))),
            max_size=5,
        )
    )
    def run(data):
        response = seen(client.post("/learning/heartbeat/", data))
        assert response.status_code < 500
        assert not StudySession.objects.filter(lesson_id=foreign.pk).exists()

    run()


def test_quiz_answers_store_at_most_valid_attempts(org, enrolled):
    lesson, foreign = enrolled
    client = learner_client(org)
    keys = st.one_of(
        st.sampled_from(["attempt", "q-0", "q-1", "q-2", "q-x", "q-"]), st.text(max_size=6)
    )
    values = st.lists(st.one_of(any_text, st.integers(-2, 5).map(str)), max_size=3)

    @FUZZ
    @given(data=st.dictionaries(keys, values, max_size=5), target=st.sampled_from([0, 1, 2]))
    def run(data, target):
        pk = [lesson.pk, foreign.pk, 999999][target]
        response = seen(client.post(f"/learning/quiz/{pk}/", data))
        assert response.status_code < 500
        assert not QuizAttempt.objects.filter(lesson_id__in=[foreign.pk, 999999]).exists()

    run()
    for attempt in QuizAttempt.objects.all():
        assert attempt.lesson_id == lesson.pk and isinstance(attempt.answers, dict)


def test_questionnaire_answers_are_validated(org):
    load("phq9")
    do_acknowledge(org.person)
    mine = assign(org.person)
    theirs = assign(org.other_person)
    client = learner_client(org)
    fields = st.dictionaries(
        st.sampled_from(["item", "option", "submit", "back", "x"]),
        st.one_of(any_text, st.integers(-3, 12).map(str)),
        max_size=4,
    )

    @FUZZ
    @given(data=fields, own=st.booleans())
    def run(data, own):
        target = mine if own else theirs
        response = seen(client.post(f"/assessments/{target.pk}/", data))
        assert response.status_code < 500
        if not own:
            assert response.status_code == 404

    run()
    theirs_answers = Response.objects.filter(assignment=theirs).values_list("answers", flat=True)
    assert all(a is None or all(v is None for v in a) for a in theirs_answers)
    for answers in Response.objects.filter(assignment=mine).values_list("answers", flat=True):
        assert all(v is None or 0 <= v <= 3 for v in answers or [])
    assert Result.objects.filter(response__assignment=theirs).count() == 0
    assert COUNTS["5xx"] == 0
