from __future__ import annotations

import datetime as dt

import pytest

from learning import quizzes
from learning.heartbeat import store
from learning.models import LessonProgress, QuizAttempt
from participation.models import ParticipationRecord
from tests.learning.builders import RIGHT, WRONG, lessons_of, make_course

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
TAB = "tab-aaaaaaaa"


def study(person, lesson, seconds: int, start=T0):
    for step in range(0, seconds + 1, 15):
        store.do_record_heartbeat(person, lesson, TAB, start + dt.timedelta(seconds=step))


def test_time_alone_does_not_complete_a_lesson_with_a_quiz(org, lesson):
    study(org.person, lesson, 300)
    progress = LessonProgress.objects.get(lesson=lesson)
    assert progress.credited_seconds == 300
    assert progress.completed_at is None


def test_time_and_a_passed_quiz_complete_the_lesson(org, lesson):
    study(org.person, lesson, 240)  # 80 % of 300 s
    quizzes.do_submit_quiz(org.person, lesson, RIGHT, now=T0 + dt.timedelta(seconds=250))
    progress = LessonProgress.objects.get(lesson=lesson)
    assert progress.quiz_passed
    assert progress.completed_at is not None
    record = ParticipationRecord.objects.get(
        person=org.person, requirement_key=f"lesson:{lesson.pk}"
    )
    assert record.status == "completed"
    assert record.minutes == 4
    assert record.period == dt.date(2026, 3, 1)


def test_quiz_first_then_time_completes(org, lesson):
    quizzes.do_submit_quiz(org.person, lesson, RIGHT)
    study(org.person, lesson, 225)
    assert LessonProgress.objects.get(lesson=lesson).completed_at is None  # 225 < 240
    store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=240))
    assert LessonProgress.objects.get(lesson=lesson).completed_at is not None


def test_a_lesson_without_quiz_completes_on_time(org):
    course = make_course(lessons=1, quiz=False, expected=60)
    from learning.models import Enrollment

    Enrollment.objects.create(person=org.person, course=course)
    lesson = lessons_of(course)[0]
    study(org.person, lesson, 45)
    assert LessonProgress.objects.get(lesson=lesson).completed_at is None
    store.do_record_heartbeat(org.person, lesson, TAB, T0 + dt.timedelta(seconds=60))
    assert LessonProgress.objects.get(lesson=lesson).completed_at is not None


def test_a_failed_quiz_is_stored_but_does_not_pass(org, lesson):
    attempt = quizzes.do_submit_quiz(org.person, lesson, WRONG)
    assert (attempt.score, attempt.total, attempt.passed) == (0, 2, False)
    assert attempt.answers == {"q-single": [1], "q-tf": [1]}
    assert not LessonProgress.objects.filter(lesson=lesson, quiz_passed=True).exists()


@pytest.mark.parametrize(
    "answers",
    [
        {"q-single": ["0"]},  # a question left out
        {"q-single": ["0"], "q-tf": ["0"], "q-missing": ["0"]},  # a question that is not there
        {"q-single": ["7"], "q-tf": ["0"]},  # an option that is not there
        {"q-single": ["0", "1"], "q-tf": ["0"]},  # two answers to a single choice
        {"q-single": ["x"], "q-tf": ["0"]},
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(org, lesson, answers):
    with pytest.raises(quizzes.InvalidAnswers):
        quizzes.do_submit_quiz(org.person, lesson, answers)
    assert not QuizAttempt.objects.exists()


def test_a_racing_second_submission_stores_one_attempt(org, lesson):
    quizzes.do_submit_quiz(org.person, lesson, RIGHT, number=1)
    with pytest.raises(quizzes.QuizAlreadySubmitted):
        quizzes.do_submit_quiz(org.person, lesson, WRONG, number=1)
    assert QuizAttempt.objects.count() == 1
    assert quizzes.do_submit_quiz(org.person, lesson, WRONG).number == 2


def test_quiz_form_submits_and_redirects_back(client, org, lesson):
    client.cookies["django_language"] = "en"
    client.force_login(org.learner)
    data = {"attempt": "1", "q-q-single": "0", "q-q-tf": "0"}
    response = client.post(f"/learning/quiz/{lesson.pk}/", data)
    assert response.status_code == 302
    assert response["Location"].endswith("#quiz")
    again = client.post(f"/learning/quiz/{lesson.pk}/", data, follow=True)
    assert "already submitted" in again.text
    assert QuizAttempt.objects.count() == 1
    page = client.get(lesson.url)
    assert "Last attempt: 2 correct out of 2 questions." in page.text


def test_quiz_for_an_unenrolled_lesson_is_404(client, org, lesson):
    client.force_login(org.other_learner)
    response = client.post(f"/learning/quiz/{lesson.pk}/", {"q-q-single": "0", "q-q-tf": "0"})
    assert response.status_code == 404
    assert not QuizAttempt.objects.exists()
