"""A learner on a lesson, a course or a lecture page always has a way on: back to the course
or home, and forward to the next lesson (found in a first walk-through: every lesson ended in
a dead end)."""

from __future__ import annotations

import pytest

from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db


def test_a_lesson_links_back_to_its_course_and_on_to_the_next_lesson(client, org, course, lessons):
    client.force_login(org.learner)
    text = client.get(lessons[0].url).text
    assert f'href="{course.url}"' in text and f"返回课程：{course.title}" in text
    assert f'href="{lessons[1].url}"' in text and f"下一课时：{lessons[1].title}" in text


def test_the_last_lesson_links_back_to_the_course_only(client, org, course, lessons):
    client.force_login(org.learner)
    text = client.get(lessons[-1].url).text
    assert f"返回课程：{course.title}" in text
    assert "下一课时" not in text


def test_a_course_page_links_back_home(client, org, course):
    client.force_login(org.learner)
    text = client.get(course.url).text
    assert 'data-testid="back-home"' in text and "返回我的主页" in text


def test_a_lecture_page_links_back_home_for_the_learner(client, org):
    lecture = make_lecture(org)
    client.force_login(org.learner)
    text = client.get(f"/live/lectures/{lecture.pk}/").text
    assert 'data-testid="back-home"' in text and "返回我的主页" in text
