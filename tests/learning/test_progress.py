"""Staff progress queries (learning.progress): statuses, time, quotas, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning import progress, services
from learning.models import Enrollment, LessonProgress
from learning.progress import CourseFilters, OfficeFilters, Status
from participation.models import ParticipationRecord, StudyQuota
from people.models import Category, PersonStatus
from tests.factories import make_person
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 16)
DONE_AT = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)


def study(person, lesson, seconds: int, done: bool = False, at: dt.datetime = DONE_AT):
    return LessonProgress.objects.create(
        person=person,
        lesson=lesson,
        credited_seconds=seconds,
        completed_at=at if done else None,
    )


def enrol(person, course, due: dt.date | None) -> Enrollment:
    return Enrollment.objects.create(person=person, course=course, due_date=due)


def rows_by_name(user, course, **filters):
    enrollments = progress.course_enrollments(user, course, CourseFilters(**filters), today=TODAY)
    return {row.name: row for row in progress.course_rows(enrollments, course)}


@pytest.fixture
def course():
    return make_course(lessons=2, quiz=False, expected=600)


# --- format_duration ------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**7))
def test_format_duration_is_whole_hours_and_minutes(seconds):
    hours, minutes = progress.format_duration(seconds).split(":")
    assert len(minutes) == 2
    assert int(hours) * 3600 + int(minutes) * 60 == seconds // 60 * 60


def test_format_duration_examples():
    assert progress.format_duration(0) == "0:00"
    assert progress.format_duration(59) == "0:00"
    assert progress.format_duration(5400) == "1:30"
    assert progress.format_duration(30 * 3600 + 61) == "30:01"


# --- Per course -----------------------------------------------------------------------------


def test_statuses_follow_completion_and_due_dates(org, course):
    first, second = lessons_of(course)
    people = {name: make_person(org.east, case_officer=org.officer) for name in "ABCDEF"}
    # A: both lessons complete, even though the due date has passed.
    enrol(people["A"], course, TODAY - dt.timedelta(days=3))
    study(people["A"], first, 600, done=True, at=DONE_AT)
    study(people["A"], second, 700, done=True, at=DONE_AT + dt.timedelta(days=1))
    # B: due yesterday, half done -> overdue.
    enrol(people["B"], course, TODAY - dt.timedelta(days=1))
    study(people["B"], first, 600, done=True)
    # C: due in 7 days, 40 % of the time -> behind.
    enrol(people["C"], course, TODAY + dt.timedelta(days=7))
    study(people["C"], first, 480)
    # D: due in 7 days, 50 % of the time -> on track (the threshold is "under half").
    enrol(people["D"], course, TODAY + dt.timedelta(days=7))
    study(people["D"], first, 600)
    # E: due in 8 days, nothing done -> on track (not near yet).
    enrol(people["E"], course, TODAY + dt.timedelta(days=8))
    # F: no due date, nothing done -> on track.
    enrol(people["F"], course, None)

    rows = rows_by_name(org.officer, course)
    by_person = {p.full_name: rows[p.full_name] for p in people.values()}
    statuses = {key: by_person[p.full_name].status for key, p in people.items()}
    assert statuses == {
        "A": Status.COMPLETED,
        "B": Status.OVERDUE,
        "C": Status.BEHIND,
        "D": Status.ON_TRACK,
        "E": Status.ON_TRACK,
        "F": Status.ON_TRACK,
    }
    a = by_person[people["A"].full_name]
    assert (a.lessons_done, a.lessons_total, a.credited_seconds) == (2, 2, 1300)
    assert a.credited == "0:21"
    assert a.completed_on == timezone.localdate(DONE_AT + dt.timedelta(days=1))
    assert by_person[people["B"].full_name].completed_on is None
    assert by_person[people["C"].full_name].progress.percent == 40


def test_rows_come_most_urgent_first_then_by_name(org, course):
    first, _second = lessons_of(course)
    due = {
        "王五": TODAY + dt.timedelta(days=30),  # on track
        "赵六": TODAY - dt.timedelta(days=1),  # overdue
        "孙七": TODAY + dt.timedelta(days=2),  # behind
        "钱八": TODAY - dt.timedelta(days=5),  # overdue
    }
    for name, when in due.items():
        person = make_person(org.east, case_officer=org.officer)
        person.full_name = name
        person.save(update_fields=["full_name"])
        enrol(person, course, when)
    done = make_person(org.east, case_officer=org.officer)
    enrol(done, course, TODAY)
    for lesson in lessons_of(course):
        study(done, lesson, 600, done=True)
    enrollments = progress.course_enrollments(org.officer, course, today=TODAY)
    names = [row.name for row in progress.course_rows(enrollments, course)]
    assert names == ["赵六", "钱八", "孙七", "王五", done.full_name]
    assert first  # the course has lessons


def test_only_live_lessons_count(org, course):
    first, second = lessons_of(course)
    enrol(org.person, course, None)
    study(org.person, first, 600, done=True)
    second.live = False
    second.save(update_fields=["live"])
    study(org.person, second, 100)
    row = rows_by_name(org.officer, course)[org.person.full_name]
    assert (row.lessons_done, row.lessons_total, row.credited_seconds) == (1, 1, 600)
    assert row.status == Status.COMPLETED


def test_progress_in_other_courses_does_not_count(org, course):
    other = make_course(lessons=2, quiz=False, expected=600)
    enrol(org.person, course, None)
    enrol(org.person, other, None)
    for lesson in lessons_of(other):
        study(org.person, lesson, 900, done=True)
    row = rows_by_name(org.officer, course)[org.person.full_name]
    assert (row.lessons_done, row.credited_seconds, row.progress.percent) == (0, 0, 0)


def test_a_course_without_lessons_is_never_complete(org):
    empty = make_course(lessons=0)
    enrol(org.person, empty, TODAY + dt.timedelta(days=1))
    row = rows_by_name(org.officer, empty)[org.person.full_name]
    assert (row.lessons_total, row.progress.percent, row.status) == (0, 0, Status.BEHIND)


@pytest.mark.parametrize(
    ("role", "sees_person", "sees_other"),
    [
        ("administrator", True, True),
        ("officer", True, False),
        ("other_officer", False, True),
        ("counselor", True, False),
        ("other_counselor", False, True),
        ("lecturer", False, False),
        ("learner", True, False),  # visible_to: a learner is in their own scope
        ("outsider", False, False),
    ],
)
def test_course_rows_are_scoped_by_visible_to(org, course, role, sees_person, sees_other):
    enrol(org.person, course, None)
    enrol(org.other_person, course, None)
    names = set(rows_by_name(getattr(org, role), course))
    assert (org.person.full_name in names) == sees_person
    assert (org.other_person.full_name in names) == sees_other


def test_persons_no_longer_supervised_are_left_out(org, course):
    enrol(org.person, course, None)
    org.person.status = PersonStatus.ENDED
    org.person.save(update_fields=["status"])
    assert rows_by_name(org.administrator, course) == {}


def test_filters_by_office_status_and_category(org, course):
    enrol(org.person, course, TODAY - dt.timedelta(days=1))  # east, normal, overdue
    strict = make_person(org.west, category=Category.STRICT)
    enrol(strict, course, None)  # west, strict, on track
    enrol(org.other_person, course, None)  # west, normal, on track
    admin = org.administrator
    assert set(rows_by_name(admin, course, office=org.east)) == {org.person.full_name}
    assert set(rows_by_name(admin, course, office=org.bureau)) == {
        org.person.full_name,
        strict.full_name,
        org.other_person.full_name,
    }
    assert set(rows_by_name(admin, course, status=Status.OVERDUE)) == {org.person.full_name}
    assert set(rows_by_name(admin, course, category=Category.STRICT)) == {strict.full_name}
    assert rows_by_name(admin, course, office=org.west, status=Status.OVERDUE) == {}


def test_courses_overview_counts_only_persons_in_scope(org, course):
    enrol(org.person, course, TODAY - dt.timedelta(days=1))
    enrol(org.other_person, course, None)
    done = make_person(org.east, case_officer=org.officer)
    enrol(done, course, None)
    for lesson in lessons_of(course):
        study(done, lesson, 600, done=True)
    overview = {c.course.pk: c for c in progress.courses_overview(org.officer, today=TODAY)}
    counts = overview[course.pk]
    assert (counts.enrolled, counts.completed, counts.behind, counts.overdue) == (2, 1, 0, 1)
    admin = {c.course.pk: c for c in progress.courses_overview(org.administrator, today=TODAY)}
    assert admin[course.pk].enrolled == 3


def test_courses_overview_counts_courses_with_and_without_lessons_together(org, course):
    # A course without live lessons skips the progress lookups ("completed" asks the course
    # first); one with lessons in the same query still counts its completions.
    empty = make_course(lessons=0)
    done = make_person(org.east, case_officer=org.officer)
    for enrolled in (course, empty):
        enrol(done, enrolled, TODAY + dt.timedelta(days=1))
    for lesson in lessons_of(course):
        study(done, lesson, 600, done=True)
    overview = {c.course.pk: c for c in progress.courses_overview(org.officer, today=TODAY)}
    assert (overview[course.pk].enrolled, overview[course.pk].completed) == (1, 1)
    assert (overview[empty.pk].enrolled, overview[empty.pk].completed) == (1, 0)
    assert overview[empty.pk].behind == 1


# The staff view and the learner's own home page agree on every course's progress.
progress_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # lesson index
        st.integers(min_value=0, max_value=1400),  # credited seconds
        st.booleans(),  # completed
    ),
    max_size=6,
    unique_by=lambda item: item[0],
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=progress_strategy, due_offset=st.integers(min_value=-10, max_value=20))
def test_staff_view_agrees_with_the_learners_own_progress(org, items, due_offset):
    Enrollment.objects.all().delete()
    LessonProgress.objects.all().delete()
    course = make_course(lessons=3, quiz=False, expected=600)
    lessons = lessons_of(course)
    enrol(org.person, course, TODAY + dt.timedelta(days=due_offset))
    for index, seconds, done in items:
        study(org.person, lessons[index], seconds, done=done)
    (mine,) = services.course_progress(org.person)
    row = rows_by_name(org.officer, course)[org.person.full_name]
    assert row.progress.percent == mine.percent
    assert row.progress.is_complete == mine.is_complete
    assert (row.lessons_done, row.lessons_total) == (mine.completed, mine.lessons)
    assert row.credited_seconds == sum(seconds for _i, seconds, _d in items)
    if mine.is_complete:
        assert row.status == Status.COMPLETED
    elif due_offset < 0:
        assert row.status == Status.OVERDUE
    elif due_offset <= progress.NEAR_DAYS and mine.percent < progress.BEHIND_BELOW_PERCENT:
        assert row.status == Status.BEHIND
    else:
        assert row.status == Status.ON_TRACK


# --- Per office -----------------------------------------------------------------------------


def month(person, period: dt.date, minutes: int, source: str = "lesson", key: str = "lesson:1"):
    ParticipationRecord.objects.create(
        person=person, period=period, source=source, requirement_key=key, minutes=minutes
    )


def office_rows(user, office, **filters):
    filters = OfficeFilters(**filters)
    persons = progress.office_persons(user, office, filters, today=TODAY)
    period = filters.period or TODAY.replace(day=1)
    return progress.office_rows(persons, period, today=TODAY)


def test_office_rows_match_the_learners_month_summary(org, course):
    StudyQuota.objects.create(category=Category.STRICT, hours=Decimal("4.5"))
    strict = make_person(org.east, category=Category.STRICT)
    march, february = dt.date(2026, 3, 1), dt.date(2026, 2, 1)
    month(org.person, march, 90)
    month(org.person, march, 30, source="lecture", key="lecture:1")
    month(org.person, february, 500)
    month(strict, march, 300)
    rows = {row.person_id: row for row in office_rows(org.administrator, org.east)}
    assert set(rows) == {org.person.pk, strict.pk}
    for person in (org.person, strict):
        mine = services.month_summary(person, TODAY)
        theirs = rows[person.pk].month
        assert (theirs.minutes, theirs.quota_hours, theirs.hours, theirs.percent) == (
            mine.minutes,
            mine.quota_hours,
            mine.hours,
            mine.percent,
        )
    assert rows[org.person.pk].month.quota_hours == Decimal(8)
    assert rows[strict.pk].quota_met
    assert not rows[org.person.pk].quota_met
    # Furthest below the quota first.
    assert [row.person_id for row in office_rows(org.administrator, org.east)] == [
        org.person.pk,
        strict.pk,
    ]
    # Another month: org.person met February's quota, so comes last.
    rows = office_rows(org.administrator, org.east, period=february)
    assert [(row.person_id, row.month.minutes) for row in rows] == [
        (strict.pk, 0),
        (org.person.pk, 500),
    ]


def test_office_rows_count_courses_by_status(org, course):
    other = make_course(lessons=1, quiz=False, expected=600)
    third = make_course(lessons=1, quiz=False, expected=600)
    enrol(org.person, course, TODAY - dt.timedelta(days=1))  # overdue
    enrol(org.person, other, None)
    enrol(org.person, third, TODAY + dt.timedelta(days=1))  # behind
    (lesson,) = lessons_of(other)
    study(org.person, lesson, 600, done=True)  # other: completed
    (row,) = office_rows(org.officer, org.east)
    assert (
        row.courses_enrolled,
        row.courses_completed,
        row.courses_behind,
        row.courses_overdue,
    ) == (3, 1, 1, 1)


def test_office_rows_skip_unpublished_courses(org, course):
    enrol(org.person, course, TODAY - dt.timedelta(days=1))
    course.live = False
    course.save(update_fields=["live"])
    (row,) = office_rows(org.officer, org.east)
    assert (row.courses_enrolled, row.courses_overdue) == (0, 0)


def test_office_rows_cover_the_subtree_within_scope(org):
    assert {r.person_id for r in office_rows(org.administrator, org.bureau)} == {
        org.person.pk,
        org.other_person.pk,
    }
    # A counselor sees the caseload only, even in an office listing.
    extra = make_person(org.east)
    assert {r.person_id for r in office_rows(org.counselor, org.east)} == {org.person.pk}
    assert {r.person_id for r in office_rows(org.officer, org.east)} == {
        org.person.pk,
        extra.pk,
    }
    assert office_rows(org.other_officer, org.east) == []


def test_office_quota_and_category_filters(org):
    StudyQuota.objects.create(category=Category.NORMAL, hours=Decimal(1))
    march = dt.date(2026, 3, 1)
    month(org.person, march, 60)
    lenient = make_person(org.east, category=Category.LENIENT)
    admin = org.administrator
    assert [r.person_id for r in office_rows(admin, org.east, quota="met")] == [org.person.pk]
    assert [r.person_id for r in office_rows(admin, org.east, quota="below")] == [lenient.pk]
    assert [r.person_id for r in office_rows(admin, org.east, category="lenient")] == [lenient.pk]
