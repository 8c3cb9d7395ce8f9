"""Assigned courses as participation requirements: each published enrolled course due in a
month (``course:<pk>``), registered with ``participation.requirements`` when the app loads."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from courses.models import CoursePage, LessonPage
from learning.models import Enrollment
from participation.requirements import COURSE, Requirement, RequirementRows, month_end, pks
from people.models import Person


def course_requirements(persons: list[Person], period: dt.date) -> dict[int, list[Requirement]]:
    """Each published enrolled course due in the month."""
    out: dict[int, list[Requirement]] = defaultdict(list)
    rows = (
        Enrollment.objects.published()
        .filter(
            person__in=[p.pk for p in persons] if len(persons) < 500 else pks(persons),
            due_date__gte=period,
            due_date__lte=month_end(period),
        )
        .values_list("person_id", "course_id", "course__title", "due_date")
    )
    for person_id, course_id, title, due in rows:
        out[person_id].append(Requirement(f"{COURSE}:{course_id}", COURSE, title, due))
    return out


def course_requirement_rows(period: dt.date) -> RequirementRows:
    """``course_requirements`` as SQL rows."""
    rows = (
        Enrollment.objects.published()
        .filter(due_date__gte=period, due_date__lte=month_end(period))
        .annotate(
            r_person=F("person_id"),
            r_key=Concat(Value(f"{COURSE}:"), Cast("course_id", CharField())),
            r_kind=Value(COURSE),
            r_due=F("due_date"),
        )
        .values("r_person", "r_key", "r_kind", "r_due")
    )

    def titles(keys: set[str]) -> dict[str, str]:
        ids = [int(key.split(":", 1)[1]) for key in keys]
        return {
            f"{COURSE}:{pk}": title
            for pk, title in CoursePage.objects.filter(pk__in=ids).values_list("pk", "title")
        }

    return RequirementRows((rows,), titles)


def course_titles(ids: list[int]) -> dict[int, str]:
    return dict(CoursePage.objects.filter(pk__in=ids).values_list("pk", "title"))


def lesson_titles(ids: list[int]) -> dict[int, str]:
    return dict(LessonPage.objects.filter(pk__in=ids).values_list("pk", "title"))
