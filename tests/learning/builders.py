"""Course trees for learning tests: an index, courses, lessons with an optional quiz."""

from __future__ import annotations

import itertools
import json
import uuid

from cms.models import HomePage
from courses.models import CourseIndexPage, CoursePage, LessonPage

_n = itertools.count(1)


def quiz_block(pass_mark: int = 60) -> dict:
    return {
        "type": "quiz",
        "value": {
            "pass_mark": pass_mark,
            "questions": [
                {
                    "type": "item",
                    "id": "q-single",
                    "value": {
                        "kind": "single",
                        "text": "Who supervises community corrections?",
                        "options": [
                            {"type": "item", "id": str(uuid.uuid4()), "value": o}
                            for o in (
                                {"text": "The justice office", "correct": True},
                                {"text": "Nobody", "correct": False},
                            )
                        ],
                        "answer_true": False,
                        "explanation": "The justice office does.",
                    },
                },
                {
                    "type": "item",
                    "id": "q-tf",
                    "value": {
                        "kind": "true_false",
                        "text": "You must report a change of address.",
                        "options": [],
                        "answer_true": True,
                        "explanation": "",
                    },
                },
            ],
        },
    }


RIGHT = {"q-single": ["0"], "q-tf": ["0"]}
WRONG = {"q-single": ["1"], "q-tf": ["1"]}


def course_index() -> CourseIndexPage:
    existing = CourseIndexPage.objects.first()
    if existing:
        return existing
    home = HomePage.objects.first()
    index = CourseIndexPage(title="Courses", slug="courses")
    home.add_child(instance=index)
    return index


def make_course(lessons: int = 2, quiz: bool = True, expected: int = 300) -> CoursePage:
    number = next(_n)
    index = course_index()
    index.refresh_from_db()
    course = CoursePage(title=f"Course {number}", slug=f"course-{number}", summary="s")
    index.add_child(instance=course)
    for i in range(lessons):
        body = [{"type": "text", "value": "<p>Lesson text</p>", "id": str(uuid.uuid4())}]
        if quiz:
            body.append(quiz_block())
        lesson = LessonPage(
            title=f"Lesson {number}.{i + 1}",
            slug=f"lesson-{i + 1}",
            expected_seconds=expected,
            body=json.dumps(body),
        )
        course.refresh_from_db()
        course.add_child(instance=lesson)
    return course


def lessons_of(course: CoursePage) -> list[LessonPage]:
    return list(LessonPage.objects.child_of(course).order_by("path"))
