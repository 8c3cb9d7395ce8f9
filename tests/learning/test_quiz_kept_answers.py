"""A quiz sent with questions left open comes back with the answers given still ticked, the
questions left named and marked, and nothing stored."""

from __future__ import annotations

import re

import pytest

from learning.models import QuizAttempt

pytestmark = pytest.mark.django_db


def checked(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r'name="(q-[^"]+)" value="(\d+)" checked', text))


def test_a_half_answered_quiz_keeps_the_answers_and_names_the_question_left(client, org, lesson):
    client.force_login(org.learner)
    response = client.post(f"/learning/quiz/{lesson.pk}/", {"attempt": "1", "q-q-single": "1"})
    assert response.status_code == 200
    text = response.text
    assert checked(text) == {("q-q-single", "1")}
    assert "第 2 题还没有作答。您已选的答案都还在，请补上后再提交。" in text
    assert text.count('data-testid="question-missing"') == 1
    assert re.search(r'class="quiz-missing"[^>]*>\s*<legend>2\. ', text)
    assert not QuizAttempt.objects.exists()


def test_every_question_left_is_named_in_english(client, org, lesson):
    client.force_login(org.learner)
    client.cookies["django_language"] = "en"
    text = client.post(f"/learning/quiz/{lesson.pk}/", {"attempt": "1"}).text
    assert "Questions 1, 2 have no answer yet. Your other answers are kept" in text
    assert checked(text) == set()
    assert not QuizAttempt.objects.exists()


def test_a_complete_quiz_is_stored_and_redirects(client, org, lesson):
    client.force_login(org.learner)
    response = client.post(
        f"/learning/quiz/{lesson.pk}/", {"attempt": "1", "q-q-single": "0", "q-q-tf": "0"}
    )
    assert response.status_code == 302
    assert QuizAttempt.objects.get().passed


def test_an_unknown_option_comes_back_with_a_clear_error_and_no_500(client, org, lesson):
    client.force_login(org.learner)
    response = client.post(
        f"/learning/quiz/{lesson.pk}/", {"attempt": "1", "q-q-single": "7", "q-q-tf": "0"}
    )
    assert response.status_code == 200
    assert "有答案不在选项之中。" in response.text
    assert ("q-q-tf", "0") in checked(response.text)
    assert not QuizAttempt.objects.exists()
