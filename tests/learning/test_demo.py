from __future__ import annotations

import pytest
from django.core.management import call_command

from courses.models import CoursePage, LessonPage
from learning.demo import COURSES, DEMO_QUOTA_HOURS, MONTHLY_LESSONS, RULE_DUE, monthly_lessons
from learning.models import (
    Enrollment,
    EnrollmentRule,
    EnrollmentRuleApplication,
    LessonProgress,
    StudySession,
)
from participation.models import StudyQuota
from people.models import Category, Person

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_courses_enrollments_and_progress_idempotently():
    call_command("seed_demo")
    call_command("seed_demo")
    assert CoursePage.objects.count() == 3
    assert LessonPage.objects.live().count() == 5 + len(MONTHLY_LESSONS)
    # and one draft lesson waiting for editor1's review (cms.demo.seed_staff_work)
    assert LessonPage.objects.not_live().count() == 1
    legal = LessonPage.objects.live().exclude(pk__in=[lesson.pk for lesson in monthly_lessons()])
    assert legal.count() == 5 and all(lesson.quiz() for lesson in legal)
    # the persons under supervision; the released ones (``people.demo.RELEASED``) are not
    assert Enrollment.objects.count() == 3 * Person.objects.active().count()
    # a quota the demo's lecture and monthly lesson can meet
    assert dict(StudyQuota.objects.values_list("category", "hours")) == DEMO_QUOTA_HOURS
    assert StudySession.objects.filter(tab="demo-tab-0001").count() == 3
    assert LessonProgress.objects.filter(credited_seconds=120).count() == 3


def test_seed_demo_enrolls_the_demo_persons_through_rules_per_category_idempotently():
    call_command("seed_demo")
    rules = list(EnrollmentRule.objects.select_related("course", "created_by"))
    courses = [spec["slug"] for spec in COURSES]  # the legal courses; the monthly one is for all
    assert {(r.category, r.course.slug) for r in rules} == {
        (category, slug) for category in Category.values for slug in courses
    }
    assert all(r.active and r.created_by.username == "admin" for r in rules)
    assert {r.category: r.due_days for r in rules} == {c: d for c, (d, _f) in RULE_DUE.items()}
    persons = Person.objects.active().filter(case_number__startswith="SF-2026-")
    assert len({p.category for p in persons}) > 1  # the rules really differ per person
    for person in persons:
        enrollments = Enrollment.objects.filter(person=person, rule__isnull=False)
        assert enrollments.count() == 2
        assert {e.rule.category for e in enrollments} == {person.category}
    snapshot = (
        EnrollmentRule.objects.count(),
        EnrollmentRuleApplication.objects.count(),
        sorted(Enrollment.objects.values_list("person_id", "course_id", "rule_id", "due_date")),
    )
    call_command("seed_demo")
    assert snapshot == (
        EnrollmentRule.objects.count(),
        EnrollmentRuleApplication.objects.count(),
        sorted(Enrollment.objects.values_list("person_id", "course_id", "rule_id", "due_date")),
    )
