"""Every learner page's <title> follows one pattern from the base template: "<page> · <site
name>" (found in a walk-through: 我的消息, 我的问卷 and 我的请假 had no site name)."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from learning.models import Enrollment
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db

SITE = "社区矫正学习与心理支持平台"


def _title(text: str) -> str:
    return re.search(r"<title>(.*?)</title>", text, re.S).group(1)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/notifications/", "我的消息"),
        ("/assessments/", "我的问卷"),
        ("/learning/absences/", "我的请假"),
        ("/learning/absences/new/", "申请请假"),
        ("/privacy/", "隐私说明"),
    ],
)
def test_a_learner_page_title_names_the_page_and_the_site(client, org, url, name):
    client.force_login(org.learner)
    response = client.get(url)
    assert response.status_code == 200, url
    assert _title(response.text) == f"{name} · {SITE}"


def test_course_and_lesson_titles_carry_the_site_name_once(client, org):
    course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    client.force_login(org.learner)
    assert _title(client.get(course.url).text) == f"{course.title} · {SITE}"
    lesson = lessons_of(course)[0]
    assert _title(client.get(lesson.url).text) == f"{lesson.title} · {SITE}"


def test_a_page_without_a_title_shows_the_site_name_alone(rf):
    with translation.override("zh-hans"):
        text = render_to_string("registration/logged_out.html", request=rf.get("/"))
    assert _title(text) == SITE


def test_a_title_is_escaped_once(client, org):
    course = make_course(lessons=1)
    course.title = "法律 & 生活"
    course.save_revision().publish()
    Enrollment.objects.create(person=org.person, course=course)
    client.force_login(org.learner)
    assert _title(client.get(course.url).text) == f"法律 &amp; 生活 · {SITE}"
