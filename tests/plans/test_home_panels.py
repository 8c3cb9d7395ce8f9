"""The counselor's home: this week's appointments and the plans due for review; scoped, and
at a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from plans.models import CounselingAppointment, PlanReview, PlanStatus
from plans.panels import PANEL_ROWS, reviews_due, week_appointments
from tests.factories import make_person
from tests.plans.helpers import drafted


def _appointment(person, counselor, at) -> CounselingAppointment:
    return CounselingAppointment.objects.create(person=person, counselor=counselor, scheduled_at=at)


def test_the_counselor_sees_their_appointments_of_the_coming_week(org):
    now = timezone.localtime().replace(hour=10, minute=0)
    today = _appointment(org.person, org.counselor, now + dt.timedelta(minutes=30))
    friday = _appointment(org.person, org.counselor, now + dt.timedelta(days=4))
    _appointment(org.person, org.counselor, now + dt.timedelta(days=8))  # later
    _appointment(org.other_person, org.other_counselor, now + dt.timedelta(days=1))

    rows = week_appointments(org.counselor, now)

    assert rows == [today, friday]
    assert rows[0].is_today
    assert [row.person for row in week_appointments(org.other_counselor, now)] == [org.other_person]
    assert week_appointments(org.officer, now) == []


def test_appointments_read_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    now = timezone.now()
    for number in range(PANEL_ROWS + 3):
        person = make_person(org.east, counselors=(org.counselor,))
        _appointment(person, org.counselor, now + dt.timedelta(hours=number + 1))
    with django_assert_max_num_queries(2):  # the roles, the appointments with persons
        rows = week_appointments(org.counselor, now)
        assert len(rows) == PANEL_ROWS
        assert all(row.where for row in rows)


def test_plans_due_for_review_overdue_first(org):
    plan = drafted(org)
    plan.status = PlanStatus.APPROVED
    plan.save(update_fields=["status"])
    today = timezone.localdate()
    late = PlanReview.objects.create(
        plan=plan, scheduled_for=today - dt.timedelta(days=2), reason="scheduled"
    )
    PlanReview.objects.create(
        plan=plan, scheduled_for=today + dt.timedelta(days=40), reason="ad_hoc"
    )

    rows = reviews_due(org.counselor, today)

    assert rows == [late] and rows[0].overdue
    assert reviews_due(org.other_counselor, today) == []


def test_reviews_due_read_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    plan = drafted(org)
    plan.status = PlanStatus.APPROVED
    plan.save(update_fields=["status"])
    today = timezone.localdate()
    for number in range(PANEL_ROWS + 3):
        PlanReview.objects.create(
            plan=plan, scheduled_for=today + dt.timedelta(days=number % 10), reason="ad_hoc"
        )
    with django_assert_max_num_queries(2):
        rows = reviews_due(org.counselor, today)
        assert len(rows) == PANEL_ROWS
        assert all(row.plan.person.full_name for row in rows)
