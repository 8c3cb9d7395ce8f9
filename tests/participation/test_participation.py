"""The month status rule (pure, with hypothesis) and the requirements it reads from the DB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from learning.models import Enrollment
from participation.models import (
    MonthStatus,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    StudyQuota,
)
from participation.requirements import (
    COURSE,
    LECTURE,
    QUOTA,
    Entry,
    Requirement,
    days_left,
    hours,
    month_end,
    month_results,
    month_status,
    person_month,
    quota_requirements,
    record_course_completion,
    supervised_days,
)
from people.models import Person
from tests.learning.builders import make_course
from tests.live.helpers import make_lecture, past_lecture

MARCH = dt.date(2026, 3, 1)
SOURCES = [s.value for s in ParticipationSource]
STATUSES = [s.value for s in ParticipationStatus]


# --- The pure rule ------------------------------------------------------------------------

keys = st.sampled_from(["quota:2026-03", "course:1", "course:2", "lecture:1", "lecture:2"])


@st.composite
def requirements(draw):
    out = []
    for key in draw(st.lists(keys, unique=True, max_size=5)):
        kind = key.split(":")[0]
        out.append(
            Requirement(
                key,
                kind,
                key,
                draw(st.dates(MARCH, month_end(MARCH))),
                draw(st.integers(0, 600)) if kind == QUOTA else 0,
            )
        )
    return out


@st.composite
def entries(draw):
    rows = {}
    for _ in range(draw(st.integers(0, 8))):
        entry = Entry(
            draw(keys),
            draw(st.sampled_from(SOURCES)),
            draw(st.sampled_from(STATUSES)),
            draw(st.integers(0, 300)),
            draw(st.sampled_from([MARCH, dt.date(2026, 2, 1)])),
        )
        rows[(entry.source, entry.key, entry.period)] = entry  # unique like the ledger
    return list(rows.values())


todays = st.dates(dt.date(2026, 2, 15), dt.date(2026, 4, 15))
RANK = {MonthStatus.MISSED: 0, MonthStatus.AT_RISK: 0, MonthStatus.EXCUSED: 1, MonthStatus.MET: 2}


@settings(max_examples=300, deadline=None)
@given(requirements(), entries(), todays, st.randoms())
def test_order_and_duplicates_never_change_the_month(reqs, rows, today, rnd):
    expected = month_status(reqs, rows, period=MARCH, today=today)
    shuffled_reqs, shuffled_rows = reqs * 2, rows + rows
    rnd.shuffle(shuffled_reqs)
    rnd.shuffle(shuffled_rows)
    assert month_status(shuffled_reqs, shuffled_rows, period=MARCH, today=today) == expected


@settings(max_examples=300, deadline=None)
@given(requirements(), entries(), todays)
def test_counts_add_up_and_status_follows_the_calendar(reqs, rows, today):
    result = month_status(reqs, rows, period=MARCH, today=today)
    assert result.met + result.excused + len(result.missing) == result.required == len(reqs)
    assert 0 <= result.percent <= 100
    if result.missing:
        over = today > month_end(MARCH)
        assert result.status == (MonthStatus.MISSED if over else MonthStatus.AT_RISK)
        assert result.days_left == days_left(MARCH, today)
    else:
        assert result.status in (MonthStatus.MET, MonthStatus.EXCUSED)
        assert (result.status == MonthStatus.EXCUSED) == (result.excused > 0)


@settings(max_examples=300, deadline=None)
@given(requirements(), entries(), todays, st.data())
def test_more_participation_never_makes_a_month_worse(reqs, rows, today, data):
    before = month_status(reqs, rows, period=MARCH, today=today)
    key = data.draw(keys)
    extra = Entry(key, ParticipationSource.LESSON, ParticipationStatus.COMPLETED, 30, MARCH)
    if any((e.source, e.key, e.period) == (extra.source, key, MARCH) for e in rows):
        return  # the ledger holds one row per source, key and month
    after = month_status(reqs, [*rows, extra], period=MARCH, today=today)
    assert RANK[after.status] >= RANK[before.status]
    assert len(after.missing) <= len(before.missing)
    assert after.study_minutes == before.study_minutes + 30


@settings(max_examples=200, deadline=None)
@given(requirements(), entries(), todays)
def test_dropping_entries_never_helps(reqs, rows, today):
    full = month_status(reqs, rows, period=MARCH, today=today)
    fewer = month_status(reqs, rows[: len(rows) // 2], period=MARCH, today=today)
    assert len(fewer.missing) >= len(full.missing)
    assert fewer.study_minutes <= full.study_minutes


def quota(minutes=480):
    return Requirement("quota:2026-03", QUOTA, "quota", month_end(MARCH), minutes)


def test_quota_counts_minutes_from_lessons_lectures_and_makeups_of_that_month_only():
    rows = [
        Entry("lesson:1", "lesson", "in_progress", 200, MARCH),
        Entry("lecture:4", "lecture", "completed", 90, MARCH),
        Entry("lecture:5", "makeup", "completed", 60, MARCH),
        Entry("lesson:2", "lesson", "completed", 500, dt.date(2026, 2, 1)),  # February
        Entry("course:9", "course", "completed", 0, MARCH),
    ]
    result = month_status([quota()], rows, period=MARCH, today=dt.date(2026, 3, 20))
    assert result.study_minutes == 350
    assert result.status == MonthStatus.AT_RISK
    (missing,) = result.missing
    assert missing.minutes_short == 130
    assert missing.hours_short == hours(130) == Decimal("2.2")
    assert result.days_left == 12


def test_a_completed_entry_wins_over_an_excused_one():
    lecture = Requirement("lecture:1", LECTURE, "讲座", dt.date(2026, 3, 5))
    rows = [
        Entry("lecture:1", "excused", "excused", 0, MARCH),
        Entry("lecture:1", "makeup", "completed", 40, MARCH),
    ]
    result = month_status([lecture], rows, period=MARCH, today=dt.date(2026, 4, 2))
    assert (result.status, result.met, result.excused) == (MonthStatus.MET, 1, 0)


def test_an_excused_lecture_makes_the_month_excused_and_a_missed_one_missed():
    lecture = Requirement("lecture:1", LECTURE, "讲座", dt.date(2026, 3, 5))
    after = dt.date(2026, 4, 1)
    excused = [Entry("lecture:1", "excused", "excused", 0, MARCH)]
    assert month_status([lecture], excused, period=MARCH, today=after).status == "excused"
    assert month_status([lecture], [], period=MARCH, today=after).status == "missed"
    assert month_status([], [], period=MARCH, today=after).status == "met"


def test_a_course_finished_in_an_earlier_month_meets_a_later_due_date():
    course = Requirement("course:3", COURSE, "课程", dt.date(2026, 3, 31))
    rows = [Entry("course:3", "course", "completed", 0, dt.date(2026, 1, 1))]
    result = month_status([course], rows, period=MARCH, today=dt.date(2026, 3, 2))
    assert result.status == MonthStatus.MET


@given(st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)))
def test_days_left_counts_today_and_ends_at_zero(today):
    period = today.replace(day=1)
    assert days_left(period, today) == month_end(period).day - today.day + 1
    assert days_left(period, month_end(period) + dt.timedelta(days=1)) == 0


# --- From the database ----------------------------------------------------------------------


@pytest.mark.django_db
def test_quota_is_prorated_by_the_days_under_supervision(org):
    StudyQuota.objects.create(category=org.person.category, hours=6)
    person = org.person
    person.supervision_start = dt.date(2026, 3, 21)  # 11 of March's 31 days
    assert supervised_days(person, MARCH) == 11
    (req,) = quota_requirements([person], MARCH)[person.pk]
    assert req.minutes == -(-360 * 11 // 31) == 128
    person.supervision_start = dt.date(2026, 4, 1)
    assert quota_requirements([person], MARCH) == {}


@pytest.mark.django_db
def test_month_results_reads_quota_courses_and_lectures_in_fixed_queries(
    org, django_assert_max_num_queries
):
    StudyQuota.objects.create(category=org.person.category, hours=1)
    course = make_course(lessons=1)
    now = timezone.now()
    period = now.date().replace(day=1)
    Enrollment.objects.create(person=org.person, course=course, due_date=month_end(period))
    lecture = make_lecture(org, start=now + dt.timedelta(minutes=1))
    persons = Person.objects.filter(pk__in=[org.person.pk, org.other_person.pk])
    # persons, quotas, courses, lectures, ledger + 3 for the lecture whose audience isn't fixed
    with django_assert_max_num_queries(8):
        results = month_results(persons, period, today=now.date())
    mine, theirs = results[org.person.pk], results[org.other_person.pk]
    assert {m.key for m in mine.missing} == {
        f"quota:{period:%Y-%m}",
        f"course:{course.pk}",
        f"lecture:{lecture.pk}",
    }
    assert mine.status == MonthStatus.AT_RISK
    assert {m.key for m in theirs.missing} == {f"quota:{period:%Y-%m}"}  # west: no lecture

    ParticipationRecord.objects.create(
        person=org.person,
        period=period,
        source=ParticipationSource.LESSON,
        requirement_key="lesson:1",
        minutes=60,
    )
    record_course_completion(org.person.pk, course.pk, course.title, now)
    record_course_completion(org.person.pk, course.pk, course.title, now)  # idempotent
    ParticipationRecord.objects.create(
        person=org.person,
        period=period,
        source=ParticipationSource.EXCUSED,
        requirement_key=f"lecture:{lecture.pk}",
        status=ParticipationStatus.EXCUSED,
    )
    result = person_month(org.person, period, today=now.date())
    assert (result.status, result.met, result.excused, result.missing) == (
        MonthStatus.EXCUSED,
        2,
        1,
        (),
    )
    assert month_results(persons, period, today=now.date())[org.person.pk] == result


@pytest.mark.django_db
def test_a_resolved_lecture_counts_for_its_fixed_audience_only(org):
    lecture = past_lecture(org, hours_ago=2)
    period = timezone.localdate(lecture.start).replace(day=1)
    org.person.office = org.west  # moved after the audience was fixed
    org.person.save()
    result = person_month(org.person, period)
    assert f"lecture:{lecture.pk}" in {m.key for m in result.missing}
    lecture.required = False
    lecture.save()
    assert f"lecture:{lecture.pk}" not in {m.key for m in person_month(org.person, period).missing}


@pytest.mark.django_db
def test_persons_outside_supervision_that_month_have_no_month(org):
    org.other_person.supervision_end = dt.date(2026, 2, 28)
    org.other_person.save()
    results = month_results(Person.objects.all(), MARCH, today=dt.date(2026, 3, 15))
    assert org.person.pk in results and org.other_person.pk not in results
