from __future__ import annotations

import pytest
from django.core.management import call_command

from courses.models import CoursePage, LessonPage
from learning.models import Enrollment, LessonProgress, StudyQuota, StudySession
from people.models import Person

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_courses_enrollments_and_progress_idempotently():
    call_command("seed_demo")
    call_command("seed_demo")
    assert CoursePage.objects.count() == 2
    assert LessonPage.objects.count() == 5
    assert all(lesson.quiz() for lesson in LessonPage.objects.all())
    assert Enrollment.objects.count() == 2 * Person.objects.count()
    assert StudyQuota.objects.count() == 3
    assert StudySession.objects.count() == 3
    assert LessonProgress.objects.filter(credited_seconds=120).count() == 3
