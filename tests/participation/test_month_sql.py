"""The month rule in SQL (participation/month_sql.py) gives exactly what the Python path
(``month_results`` → ``month_status``) gives, on generated data; so do the rollups filled
either way; and office-months survive more than 1,000 rows on SQLite."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wagtail.models import Page

from learning.models import Enrollment
from live.audience import do_resolve_audience
from participation import month_sql, rollups
from participation.models import (
    OfficeMonth,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    PersonMonth,
    StudyQuota,
)
from participation.requirements import month_results
from people.models import Category, Office, Person, PersonStatus, User
from people.roles import Role
from tests.factories import make_person
from tests.learning.builders import make_course
from tests.live.helpers import make_lecture

MARCH = dt.date(2026, 3, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSONS = 5
STARTS = [dt.date(2025, 12, 1), dt.date(2026, 3, 10), dt.date(2026, 3, 31), dt.date(2026, 4, 2)]
ENDS = [dt.date(2026, 2, 27), dt.date(2026, 3, 1), dt.date(2026, 3, 20), dt.date(2026, 6, 30)]
DUES = [None, dt.date(2026, 2, 20), dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1)]
PERIODS = [dt.date(2026, 2, 1), MARCH, MARCH, dt.date(2026, 4, 1)]
SOURCES = [s.value for s in ParticipationSource]
STATUSES = [s.value for s in ParticipationStatus]
TODAYS = [dt.date(2026, 3, 15), dt.date(2026, 4, 5)]  # March open (at risk), March over


@pytest.fixture
def world(org):
    """Five persons in two offices and two courses; each example sets the rest."""
    persons = [org.person, org.other_person, make_person(org.east), make_person(org.west)]
    persons.append(make_person(org.east, category=Category.STRICT))
    courses = [make_course(lessons=0), make_course(lessons=0)]
    return org, persons, courses


person_rows = st.tuples(
    st.sampled_from(Category.values),
    st.sampled_from(STARTS),
    st.sampled_from(ENDS),
    st.booleans(),  # active
    st.tuples(st.sampled_from(DUES), st.sampled_from(DUES)),  # due dates of the two courses
)
lecture_rows = st.tuples(
    st.sampled_from([(1, 0, 30), (15, 10, 0), (31, 23, 30)]),  # day, hour, minute (Shanghai)
    st.booleans(),  # audience fixed
    st.booleans(),  # required
    st.sampled_from(["east", "west", "both"]),
    st.lists(st.sampled_from(Category.values), max_size=2, unique=True),
)
ledger_rows = st.tuples(
    st.integers(0, PERSONS - 1),
    st.sampled_from([*SOURCES, ParticipationSource.COURSE]),
    st.integers(0, 7),  # key: quota, two courses, three lectures, two lessons
    st.sampled_from(STATUSES),
    st.sampled_from([0, 15, 60, 200, 479, 480, 600]),
    st.sampled_from(PERIODS),
)


@st.composite
def scenarios(draw):
    return {
        "quotas": draw(st.sampled_from([{}, {"normal": "1.5", "strict": "0"}, {"lenient": "12"}])),
        "persons": draw(st.lists(person_rows, min_size=PERSONS, max_size=PERSONS)),
        "second_course_live": draw(st.booleans()),
        "lectures": draw(st.lists(lecture_rows, max_size=3)),
        "ledger": draw(st.lists(ledger_rows, max_size=20)),
        "today": draw(st.sampled_from(TODAYS)),
    }


def _build(org, persons, courses, scenario) -> None:
    StudyQuota.objects.all().delete()
    for category, hours in scenario["quotas"].items():
        StudyQuota.objects.create(category=category, hours=hours)
    for person, (category, start, end, active, dues) in zip(
        persons, scenario["persons"], strict=True
    ):
        Person.objects.filter(pk=person.pk).update(
            category=category,
            supervision_start=start,
            supervision_end=max(start, end),
            status=PersonStatus.ACTIVE if active else PersonStatus.ENDED,
        )
        for course, due in zip(courses, dues, strict=True):
            if due:
                Enrollment.objects.create(person=person, course=course, due_date=due)
    Page.objects.filter(pk=courses[1].pk).update(live=scenario["second_course_live"])
    lectures = []
    for (day, hour, minute), fixed, required, where, categories in scenario["lectures"]:
        offices = {"east": [org.east], "west": [org.west], "both": [org.east, org.west]}[where]
        start = dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)
        lecture = make_lecture(
            org, start=start, offices=offices, categories=categories, required=required
        )
        if fixed:
            do_resolve_audience(lecture)
        lectures.append(lecture)
    keys = ["quota:2026-03", *(f"course:{c.pk}" for c in courses)]
    keys += [f"lecture:{lecture.pk}" for lecture in lectures]
    keys += [f"lecture:{n}" for n in range(10**6, 10**6 + 3 - len(lectures))]
    keys += ["lesson:1", "lesson:2"]
    seen = set()
    for index, source, key_index, status, minutes, period in scenario["ledger"]:
        key = keys[key_index]
        if source == ParticipationSource.COURSE and not key.startswith("course:"):
            continue  # only course completions are written with source "course"
        row = (persons[index].pk, source, key, period)
        if row in seen:
            continue
        seen.add(row)
        ParticipationRecord.objects.create(
            person_id=row[0],
            source=source,
            requirement_key=key,
            period=period,
            status=status,
            minutes=minutes,
        )


# A course completed the month before its due date; a quota excused; a lecture at 00:30 on
# the 1st (Shanghai: still March, though February in UTC) with its audience not fixed yet.
EARLY_COURSE_AND_EXCUSED_QUOTA = {
    "quotas": {"normal": "2"},
    "persons": [("normal", STARTS[0], ENDS[3], True, (DUES[3], None))] * PERSONS,
    "second_course_live": True,
    "lectures": [((1, 0, 30), False, True, "both", [])],
    "ledger": [
        (0, "course", 1, "completed", 0, dt.date(2026, 2, 1)),
        (1, "course", 1, "excused", 0, dt.date(2026, 2, 1)),
        (2, "excused", 0, "excused", 0, MARCH),
        (2, "lesson", 6, "in_progress", 100, MARCH),
        (3, "makeup", 3, "completed", 30, MARCH),
    ],
    "today": TODAYS[1],
}


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
@example(scenario=EARLY_COURSE_AND_EXCUSED_QUOTA)
def test_sql_and_python_paths_decide_every_month_alike(world, scenario):
    org, persons, courses = world
    with transaction.atomic():
        _build(org, persons, courses, scenario)
        today = scenario["today"]
        everyone = Person.objects.all()
        expected = month_results(everyone, MARCH, today)
        rows = month_sql.month_rows(everyone, MARCH, today)
        assert {row.person_id: row.result for row in rows} == expected
        for row in rows:
            result = row.result
            numbers = (result.required, result.met, result.excused, result.study_minutes)
            assert all(type(n) is int for n in (*numbers, result.quota_minutes))
            assert all(type(m.due) is dt.date for m in result.missing)
        profile = {p.pk: (p.office_id, p.category) for p in everyone}
        counted = Counter((*profile[pk], result.status) for pk, result in expected.items())
        by_sql = Counter()
        for row in month_sql.office_counts(everyone, MARCH, today):
            for status in ("met", "excused", "at_risk", "missed"):
                by_sql[(row["office_id"], row["category"], status)] += row[status]
            assert row["persons"] == sum(row[s] for s in ("met", "excused", "at_risk", "missed"))
        assert +by_sql == counted
        transaction.set_rollback(True)


FIELDS = ("person_id", "office_id", "category", "status", "required", "met", "excused",
          "missing", "study_minutes", "quota_minutes")  # fmt: skip


@pytest.mark.django_db
def test_rollups_filled_by_sql_equal_the_python_ones(world):
    org, persons, courses = world
    scenario = {
        "quotas": {"normal": "1.5"},
        "persons": [
            ("normal", STARTS[0], ENDS[3], True, (DUES[3], None)),
            ("normal", STARTS[1], ENDS[3], True, (None, DUES[2])),
            ("strict", STARTS[0], ENDS[2], True, (DUES[1], DUES[3])),
            ("lenient", STARTS[3], ENDS[3], True, (None, None)),  # not yet supervised
            ("strict", STARTS[0], ENDS[3], False, (DUES[2], None)),
        ],
        "second_course_live": True,
        "lectures": [
            ((15, 10, 0), True, True, "both", []),
            ((31, 23, 30), False, True, "east", []),
        ],
        "ledger": [
            (0, "lesson", 6, "in_progress", 200, MARCH),
            (0, "course", 1, "completed", 0, dt.date(2026, 2, 1)),
            (1, "lecture", 3, "completed", 60, MARCH),
            (2, "excused", 0, "excused", 0, MARCH),
            (2, "lesson", 6, "completed", 600, MARCH),
            (4, "makeup", 3, "completed", 45, MARCH),
        ],
        "today": TODAYS[0],
    }
    _build(org, persons, courses, scenario)
    rollups.refresh_month(MARCH, today=TODAYS[0], use_sql=False)
    by_python = sorted(PersonMonth.objects.filter(period=MARCH).values_list(*FIELDS))
    offices = sorted(OfficeMonth.objects.values_list("office_id", "category", "persons", "met"))
    PersonMonth.objects.all().delete()
    OfficeMonth.objects.all().delete()
    rollups.refresh_month(MARCH, today=TODAYS[0], use_sql=True)
    assert sorted(PersonMonth.objects.filter(period=MARCH).values_list(*FIELDS)) == by_python
    assert len(by_python) == 4
    assert (
        sorted(OfficeMonth.objects.values_list("office_id", "category", "persons", "met"))
        == offices
    )


@pytest.mark.django_db
def test_office_months_beyond_a_thousand_rows(org):
    """Refreshing keeps 1,050 office-months and drops the stale ones (the old OR-per-row
    delete broke SQLite's expression depth limit)."""
    learner = Group.objects.get(name=Role.LEARNER)
    offices = []
    for n in range(350):
        org.bureau.refresh_from_db()
        offices.append(org.bureau.add_child(name=f"所 {n}", code=f"o{n}"))
    users = User.objects.bulk_create(
        [User(username=f"bulk{n}", password="!", name=f"b{n}") for n in range(1050)]
    )
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=learner.pk) for u in users]
    )
    categories = Category.values
    persons = Person.objects.bulk_create(
        [
            Person(
                user=user,
                case_number=f"BULK-{n}",
                full_name=user.name,
                office=offices[n // 3],
                category=categories[n % 3],
                supervision_start=dt.date(2026, 1, 1),
                supervision_end=dt.date(2026, 12, 31),
            )
            for n, user in enumerate(users)
        ]
    )
    now = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    PersonMonth.objects.bulk_create(
        [
            PersonMonth(
                person=p,
                period=MARCH,
                office_id=p.office_id,
                category=p.category,
                status="met",
                computed_at=now,
            )
            for p in persons
        ]
    )
    stale = OfficeMonth.objects.create(
        office=org.east, period=MARCH, category=Category.NORMAL, persons=9, computed_at=now
    )
    assert rollups.refresh_office_months(MARCH) == 1050
    assert OfficeMonth.objects.filter(period=MARCH).count() == 1050
    assert not OfficeMonth.objects.filter(pk=stale.pk).exists()
    assert rollups.refresh_office_months(MARCH, [o.pk for o in offices]) == 1050
    assert set(OfficeMonth.objects.values_list("persons", "met").distinct()) == {(1, 1)}
    assert Office.objects.count() == 353


def _figures(rows):
    return [
        (r.office_id, r.persons, r.met, r.excused, r.at_risk, r.missed, r.by_category) for r in rows
    ]


@pytest.mark.django_db
def test_dashboard_from_the_ledger_equals_the_rollups_in_few_queries(
    world, django_assert_max_num_queries
):
    org, persons, courses = world
    scenario = {
        **EARLY_COURSE_AND_EXCUSED_QUOTA,
        "lectures": [((15, 10, 0), True, True, "both", [])],
    }
    _build(org, persons, courses, scenario)
    today = TODAYS[1]
    rollups.refresh_month(MARCH, today=today)
    admin = org.administrator
    expected = rollups.office_month_rows(admin, MARCH)
    assert sum(r.persons for r in expected) == PERSONS
    # offices, quotas, the month's lectures, the aggregate (+ the user's roles)
    with django_assert_max_num_queries(5):
        rows = rollups.office_month_rows_from_ledger(admin, MARCH, today=today)
    assert _figures(rows) == _figures(expected)
    east = rollups.office_month_rows_from_ledger(admin, MARCH, office=org.east, today=today)
    assert _figures(east) == [f for f in _figures(expected) if f[0] == org.east.pk]
    assert rollups.office_month_rows_from_ledger(org.outsider, MARCH, today=today) == []
