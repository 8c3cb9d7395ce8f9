from __future__ import annotations

import pytest

from learning.models import Enrollment
from tests.learning.builders import lessons_of, make_course


@pytest.fixture
def course(org):
    course = make_course(lessons=2)
    Enrollment.objects.create(person=org.person, course=course)
    return course


@pytest.fixture
def lessons(course):
    return lessons_of(course)


@pytest.fixture
def lesson(lessons):
    return lessons[0]
