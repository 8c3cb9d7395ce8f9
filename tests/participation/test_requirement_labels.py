"""Staff screens never show a bare requirement key (``lesson:10``, ``lecture:3``): a blank
stored title is looked up through the requirements registry, or named as deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from participation.models import FollowUp, FollowUpStage
from participation.requirements import requirement_labels
from tests.factories import login_staff
from tests.learning.builders import lessons_of, make_course
from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def _follow_up(person, key: str, officer) -> FollowUp:
    return FollowUp.objects.create(
        person=person,
        period=MARCH,
        requirement_key=key,
        requirement="",
        stage=FollowUpStage.OFFICER,
        opened_at=timezone.now(),
        officer=officer,
    )


def test_labels_name_lessons_courses_and_lectures_by_title(org):
    course = make_course(lessons=1, quiz=False)
    lesson = lessons_of(course)[0]
    lecture = make_lecture(org, title="法律常识讲座")

    labels = requirement_labels(
        [f"lesson:{lesson.pk}", f"course:{course.pk}", f"lecture:{lecture.pk}", "quota:2026-03"]
    )

    assert labels[f"lesson:{lesson.pk}"] == lesson.title
    assert labels[f"course:{course.pk}"] == course.title
    assert labels[f"lecture:{lecture.pk}"] == "法律常识讲座"
    assert "2026-03" in labels["quota:2026-03"]


def test_a_deleted_lesson_reads_as_deleted_in_chinese(org):
    with translation.override("zh-hans"):
        labels = requirement_labels(["lesson:999999", "lecture:999999", "lesson:feb"])

    assert labels["lesson:999999"] == "课时（已删除）"
    assert labels["lecture:999999"] == "讲座（已删除）"
    assert labels["lesson:feb"] == "课时（已删除）"


def test_labels_take_one_query_per_kind(org, django_assert_max_num_queries):
    keys = [f"lesson:{n}" for n in range(1, 40)] + [f"lecture:{n}" for n in range(1, 40)]
    with django_assert_max_num_queries(2):
        requirement_labels(keys)


def test_follow_up_list_and_page_show_titles_not_keys(client, org):
    lecture = make_lecture(org, title="法律常识讲座")
    by_title = _follow_up(org.person, f"lecture:{lecture.pk}", org.officer)
    gone = _follow_up(org.person, "lesson:999999", org.officer)
    login_staff(client, org.officer)

    listing = client.get(reverse("learning_followup_list")).content.decode()
    page = client.get(reverse("learning_followup_detail", args=[by_title.pk])).content.decode()
    gone_page = client.get(reverse("learning_followup_detail", args=[gone.pk])).content.decode()

    assert "法律常识讲座" in listing and "课时（已删除）" in listing
    assert f"lecture:{lecture.pk}" not in listing and "lesson:999999" not in listing
    assert "法律常识讲座" in page and f"lecture:{lecture.pk}" not in page
    assert "课时（已删除）" in gone_page and "lesson:999999" not in gone_page
