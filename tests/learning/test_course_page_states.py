"""The course page marks each lesson done, in progress or not started, with a mark and a word
(never colour alone), and reads the learner's progress in a fixed number of queries (found in
a walk-through: the list of lessons showed no sign of which were done)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from learning.models import Enrollment, LessonProgress
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db


def _states(text: str) -> list[str]:
    return re.findall(r'data-testid="lesson-row" data-state="(\w+)"', text)


def test_each_lesson_shows_its_state_in_words(client, org):
    course = make_course(lessons=3)
    Enrollment.objects.create(person=org.person, course=course)
    first, second, _third = lessons_of(course)
    LessonProgress.objects.create(
        person=org.person, lesson=first, credited_seconds=300, completed_at=timezone.now()
    )
    LessonProgress.objects.create(person=org.person, lesson=second, credited_seconds=40)
    client.force_login(org.learner)
    text = client.get(course.url).text
    assert _states(text) == ["done", "in_progress", "not_started"]
    assert "已学完" in text and "学习中" in text and "未开始" in text
    assert "✓" in text


def test_another_persons_progress_does_not_mark_my_lessons(client, org):
    course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    Enrollment.objects.create(person=org.other_person, course=course)
    LessonProgress.objects.create(
        person=org.other_person,
        lesson=lessons_of(course)[0],
        credited_seconds=300,
        completed_at=timezone.now(),
    )
    client.force_login(org.learner)
    assert _states(client.get(course.url).text) == ["not_started"]


def _queries_for(client, course) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(course.url).status_code == 200
    return len(queries)


def test_the_course_page_reads_progress_in_a_fixed_number_of_queries(client, org):
    small = make_course(lessons=1)
    large = make_course(lessons=6)
    for course in (small, large):
        Enrollment.objects.create(person=org.person, course=course)
        for lesson in lessons_of(course):
            LessonProgress.objects.create(person=org.person, lesson=lesson, credited_seconds=10)
    client.force_login(org.learner)
    _queries_for(client, small)  # warm the site and session caches
    assert _queries_for(client, large) == _queries_for(client, small)
