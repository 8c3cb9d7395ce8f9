"""``Lecture.objects.visible_to`` asks "does the fixed audience include a person in scope" in
two SQL shapes (``live.models._audience_includes``): a list of the scope's audience rows for
a caseload or a justice office, a first-row probe per lecture for a bureau. Both must give
the same lectures, and the lecture list must not run a query per lecture or per person
(bench/bench_staff_pages.py measures the speed at 50,000 persons)."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from live import audience
from live.models import Lecture, _audience_includes, _wide_scope
from people.models import Person
from people.roles import roles_of
from tests.factories import login_staff, make_person
from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db

USERS = ("administrator", "officer", "other_officer", "counselor", "other_counselor")


def _resolved_lectures(org, rng: random.Random, count: int) -> list[Lecture]:
    offices = [org.east, org.west, org.bureau]
    lectures = []
    for _ in range(count):
        lecture = make_lecture(org, offices=(rng.choice(offices),))
        audience.do_resolve_audience(lecture)
        lectures.append(lecture)
    return lectures


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_shapes_give_the_same_lectures(org, seed):
    rng = random.Random(seed)
    for _ in range(6):
        make_person(
            rng.choice([org.east, org.west]),
            counselors=tuple(rng.sample([org.counselor, org.other_counselor], rng.randint(0, 2))),
            case_officer=rng.choice([None, org.officer, org.other_officer]),
        )
    _resolved_lectures(org, rng, 6)
    for name in USERS:
        user = getattr(org, name)
        persons = Person.objects.visible_to(user)
        narrow = set(Lecture.objects.filter(_audience_includes(persons, wide=False)))
        wide = set(Lecture.objects.filter(_audience_includes(persons, wide=True)))
        assert narrow == wide, name


def test_a_bureau_is_a_wide_scope_and_a_justice_office_or_caseload_narrow(org):
    def wide(user):
        return _wide_scope(user, roles_of(user))

    assert wide(org.administrator)
    assert not wide(org.officer)
    assert not wide(org.counselor)  # counselors see a caseload wherever their office is


@pytest.mark.parametrize("who", ["administrator", "officer"])
def test_the_lecture_list_runs_as_many_queries_for_many_lectures_and_persons(client, org, who):
    login_staff(client, getattr(org, who))
    rng = random.Random(7)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/lectures/").status_code == 200
        return len(captured)

    _resolved_lectures(org, rng, 2)
    queries()  # the first request of a session also fills per-process caches
    small = queries()
    for _ in range(8):
        make_person(rng.choice([org.east, org.west]))
    _resolved_lectures(org, rng, 10)
    assert queries() == small
