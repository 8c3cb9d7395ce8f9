"""Issue 17, item 2: approving a plan double- and triple-booked counseling (learner1 got 14
appointments, three at 2027-01-04 10:00 with the same counselor). The pure rule
(``plans.booking``) by properties; the service on the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.approval import do_approve_plan
from plans.booking import (
    MAX_SESSIONS,
    SLOT_HOURS,
    Busy,
    Series,
    first_free_slot,
    merge_series,
    schedule_series,
)
from plans.editing import do_update_plan
from plans.models import AppointmentStatus, CounselingAppointment, Plan, PlanStatus
from tests.factories import make_person
from tests.plans.helpers import PHQ9_MODERATE, intake, reviewed

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = dt.timedelta(minutes=50)

series_st = st.builds(
    Series, interval_days=st.integers(min_value=7, max_value=92), sessions=st.integers(1, 52)
)
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31))
slot_times = st.builds(
    lambda day, hour: dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE),
    days,
    st.sampled_from(SLOT_HOURS),
)
busy_lists = st.lists(st.builds(lambda s: Busy(s, s + HOUR), slot_times), max_size=40)


# --- The pure rule ------------------------------------------------------------------------------


@given(st.lists(series_st, min_size=1, max_size=6))
def test_merged_series_meets_at_the_shortest_interval_until_the_latest_session(requests):
    merged = merge_series(requests)
    assert merged.interval_days == min(r.interval_days for r in requests)
    span = max(r.interval_days * r.sessions for r in requests)
    assert merged.sessions == MAX_SESSIONS or merged.interval_days * merged.sessions >= span
    assert merged.sessions <= MAX_SESSIONS
    assert (merged.sessions - 1) * merged.interval_days < span


def test_no_request_no_series():
    assert merge_series([]) is None


@given(slot_times, busy_lists)
def test_the_slot_taken_is_free_at_or_after_the_wish_on_a_working_day(wanted, busy):
    slot = first_free_slot(wanted, HOUR, busy)
    assert slot >= wanted
    assert slot.weekday() < 5 and slot.hour in SLOT_HOURS and slot.minute == 0
    assert all(not (slot < b.end and b.start < slot + HOUR) for b in busy)


@given(slot_times, busy_lists)
def test_a_free_wish_is_kept(wanted, busy):
    busy = [b for b in busy if not (wanted < b.end and b.start < wanted + HOUR)]
    if wanted.weekday() < 5:
        assert first_free_slot(wanted, HOUR, busy) == wanted


@given(series_st, days, busy_lists)
@settings(max_examples=50)
def test_a_series_never_overlaps_itself_or_the_calendar(series, first_day, busy):
    times = schedule_series(series, first_day, ZONE, HOUR, busy)
    assert len(times) == series.sessions
    assert times == sorted(times)
    for at in times:
        assert all(not (at < b.end and b.start < at + HOUR) for b in busy)
    assert all(later - earlier >= HOUR for earlier, later in zip(times, times[1:], strict=False))


def test_three_wishes_for_the_same_hour_get_three_hours():
    wanted = dt.datetime(2027, 1, 4, 10, tzinfo=ZONE)  # the Monday of the report
    taken: list[Busy] = []
    for _ in range(3):
        slot = first_free_slot(wanted, HOUR, taken)
        taken.append(Busy(slot, slot + HOUR))
    assert [b.start.hour for b in taken] == [10, 11, 14]


# --- The service --------------------------------------------------------------------------------


def counseling_plan(person, org) -> Plan:
    """A draft with counseling on three goals (mental health, family, and an added goal)."""
    intake(person, org.officer, family="conflict")
    reviewed(person, org.counselor, PHQ9_MODERATE)
    plan = Plan.objects.get(person=person, status=PlanStatus.DRAFT)
    goal = plan.goals.first()
    do_update_plan(
        plan,
        {
            "interventions_add": [
                {"goal": goal.pk, "details": {"kind": "counseling", "interval_days": 14}}
            ]
        },
        org.counselor,
        "extra talks",
        plan.revision,
    )
    plan.refresh_from_db()
    kinds = [i.kind for g in plan.goals.all() for i in g.interventions.all()]
    assert kinds.count("counseling") >= 3
    return plan


@pytest.mark.usefixtures("english")
def test_approval_books_one_series_and_never_two_sessions_at_one_time(org):
    plan = counseling_plan(org.person, org)
    do_approve_plan(plan, org.counselor)
    mine = CounselingAppointment.objects.filter(person=org.person)
    times = list(mine.values_list("scheduled_at", flat=True))
    assert len(times) == 6  # family, mental health and the extra talks: one series
    assert len(set(times)) == len(times)
    assert all(
        later - earlier >= dt.timedelta(days=13)
        for earlier, later in zip(times, times[1:], strict=False)
    )
    # the same counselor approves another person's plan the same day: other hours
    other = make_person(org.east, case_officer=org.officer, counselors=(org.counselor,))
    second = counseling_plan(other, org)
    do_approve_plan(second, org.counselor)
    booked = CounselingAppointment.objects.filter(
        counselor=org.counselor, status=AppointmentStatus.SCHEDULED
    ).values_list("scheduled_at", flat=True)
    per_time = Counter(booked)
    assert len(booked) == 12 and max(per_time.values()) == 1
