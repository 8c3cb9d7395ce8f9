from __future__ import annotations

import pytest

from learning.models import Enrollment
from tests.factories import login_staff
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db


def test_enrolled_learner_opens_a_lesson(client, org, lesson):
    client.force_login(org.learner)
    response = client.get(lesson.url)
    assert response.status_code == 200
    assert 'data-testid="lesson"' in response.text
    assert "js/heartbeat.js" in response.text
    assert "<script>" not in response.text  # no inline script under the strict CSP
    assert response["Cache-Control"].startswith("no-store")


def test_unenrolled_lesson_is_404(client, org):
    lesson = lessons_of(make_course(lessons=1))[0]
    client.force_login(org.learner)
    assert client.get(lesson.url).status_code == 404


def test_another_learners_lesson_is_404(client, org, lesson):
    client.force_login(org.other_learner)
    assert client.get(lesson.url).status_code == 404


def test_staff_and_outsiders_get_404(client, org, lesson):
    for user in (org.officer, org.outsider):
        login_staff(client, user)
        assert client.get(lesson.url).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, lesson):
    response = client.get(lesson.url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_unpublished_course_is_404_even_when_enrolled(client, org, course, lesson):
    course.unpublish()
    client.force_login(org.learner)
    assert client.get(lesson.url).status_code == 404
    assert client.get(course.url if course.url else "/courses/course-x/").status_code == 404


def test_course_page_lists_lessons_for_the_enrolled(client, org, course):
    client.force_login(org.learner)
    response = client.get(course.url)
    assert response.status_code == 200
    assert "Lesson" in response.text
    client.force_login(org.other_learner)
    assert client.get(course.url).status_code == 404


def test_lesson_page_query_count_is_bounded(
    client, org, course, lesson, django_assert_max_num_queries
):
    for _ in range(5):
        Enrollment.objects.create(person=org.person, course=make_course(lessons=3))
    client.force_login(org.learner)
    client.get(lesson.url)  # warm the site-root cache
    # 10, and one for the "next lesson" link (the course comes with the enrollment)
    with django_assert_max_num_queries(11):
        assert client.get(lesson.url).status_code == 200
