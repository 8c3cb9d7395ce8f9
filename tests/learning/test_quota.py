from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from learning import services
from learning.heartbeat import store
from learning.models import Enrollment
from participation.models import ParticipationRecord, StudyQuota
from people.models import Category
from tests.learning.builders import make_course

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 15)


def test_quota_defaults_to_eight_hours(org):
    assert services.month_summary(org.person, MARCH).quota_hours == Decimal(8)


def test_month_summary_counts_this_months_minutes_against_the_category_quota(org):
    StudyQuota.objects.create(category=Category.NORMAL, hours=Decimal(4))
    for period, minutes in ((dt.date(2026, 3, 1), 90), (dt.date(2026, 2, 1), 500)):
        ParticipationRecord.objects.create(
            person=org.person,
            period=period,
            source="lesson",
            requirement_key="lesson:1",
            minutes=minutes,
        )
    ParticipationRecord.objects.create(
        person=org.person,
        period=dt.date(2026, 3, 1),
        source="lecture",
        requirement_key="lecture:1",
        minutes=30,
    )
    summary = services.month_summary(org.person, MARCH)
    assert summary.minutes == 120
    assert summary.quota_minutes == 240
    assert summary.hours == Decimal("2.0")
    assert summary.percent == 50


def test_course_progress_and_next_lesson(org, course, lessons):
    summary = services.month_summary(org.person, MARCH)
    (item,) = summary.courses
    assert (item.lessons, item.completed, item.percent) == (2, 0, 0)
    assert item.next_lesson.pk == lessons[0].pk


def test_home_shows_hours_and_courses(client, org, course, lesson):
    at = dt.datetime.now(dt.UTC)
    for step in range(0, 121, 15):
        store.do_record_heartbeat(
            org.person, lesson, "tab-aaaaaaaa", at + dt.timedelta(seconds=step)
        )
    client.cookies["django_language"] = "en"
    client.force_login(org.learner)
    text = client.get("/").text
    assert 'data-testid="month-hours"' in text
    assert "0.0 of 8 hours" in text or "of 8 hours" in text
    assert 'data-testid="my-courses"' in text
    assert course.title in text
    assert "Next lesson" in text
    assert 'style="' not in text


def test_learner_home_query_count_does_not_grow_with_courses(
    client, org, django_assert_max_num_queries
):
    client.force_login(org.learner)
    client.get("/")

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get("/")  # refill what a change dropped from the caches (badge, site root)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    Enrollment.objects.create(person=org.person, course=make_course(lessons=2))
    one = count()
    for _ in range(4):
        Enrollment.objects.create(person=org.person, course=make_course(lessons=3))
    assert count() == one
    # Study, courses, questionnaires, lectures, makeups, plan and roll-call cards plus the
    # header badge.
    with django_assert_max_num_queries(18):
        client.get("/")
