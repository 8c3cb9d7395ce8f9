"""The admin home's lecture panels: the officer's week and recent gaps, the lecturer's next
lectures with the start button; scoped, and at a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from live.models import Attendance, PresenceCheck, PresenceCheckResponse
from live.panels import PANEL_ROWS, next_own_lectures, recent_gaps, week_lectures
from live.services import current_policy
from tests.factories import make_person
from tests.live.helpers import make_lecture, past_lecture


def _attendance(lecture, person, status: str = "present", missed_checks: int = 0) -> Attendance:
    row = Attendance.objects.create(
        lecture=lecture,
        person=person,
        status=status,
        policy=current_policy(),
        computed_at=timezone.now(),
    )
    for number in range(missed_checks):
        sent = lecture.start + dt.timedelta(minutes=10 + number)
        check = PresenceCheck.objects.create(
            lecture=lecture, sent_at=sent, expires_at=sent + dt.timedelta(minutes=1)
        )
        PresenceCheckResponse.objects.create(presence_check=check, person=person, status="missed")
    return row


def test_the_officer_sees_this_weeks_lectures_of_the_office(org):
    now = timezone.now()
    soon = make_lecture(org, start=now + dt.timedelta(days=2))
    make_lecture(org, start=now + dt.timedelta(days=9))  # next week
    west = make_lecture(org, start=now + dt.timedelta(days=1), offices=(org.west,))
    past_lecture(org, hours_ago=30)  # over

    assert week_lectures(org.officer, now) == [soon]
    assert week_lectures(org.other_officer, now) == [west]
    assert week_lectures(org.editor, now) == []


def test_recent_gaps_are_absences_early_leaves_and_unanswered_checks(org):
    lecture = past_lecture(org, hours_ago=30)
    newcomer = make_person(org.east, case_officer=org.officer)
    quiet = make_person(org.east, case_officer=org.officer)
    fine = make_person(org.east, case_officer=org.officer)
    _attendance(lecture, org.person, "absent")
    _attendance(lecture, newcomer, "left_early")
    _attendance(lecture, quiet, "present", missed_checks=2)
    _attendance(lecture, fine, "late")
    old = past_lecture(org, hours_ago=24 * 20)
    _attendance(old, fine, "absent")  # too long ago

    rows = {row.person_id: row for row in recent_gaps(org.officer, timezone.now())}

    assert set(rows) == {org.person.pk, newcomer.pk, quiet.pk}
    assert rows[org.person.pk].effective == "absent"
    assert rows[quiet.pk].missed_checks == 2
    assert recent_gaps(org.other_officer, timezone.now()) == []
    assert recent_gaps(org.lecturer, timezone.now()) == []  # the lecturer's roster: not here


def test_an_override_closes_the_gap(org):
    lecture = past_lecture(org, hours_ago=30)
    row = _attendance(lecture, org.person, "absent")
    Attendance.objects.filter(pk=row.pk).update(override_status="present")
    assert recent_gaps(org.officer, timezone.now()) == []


def test_the_officer_panels_read_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    now = timezone.now()

    def add(count: int) -> None:
        for number in range(count):
            make_lecture(org, start=now + dt.timedelta(hours=number + 1))
            lecture = past_lecture(org, hours_ago=30 + number)
            person = make_person(org.east, case_officer=org.officer)
            _attendance(lecture, person, "absent", missed_checks=2)

    add(1)
    with django_assert_max_num_queries(6) as few:
        week_lectures(org.officer, now)
        recent_gaps(org.officer, now)
    add(PANEL_ROWS + 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(week_lectures(org.officer, now)) == PANEL_ROWS
        assert len(recent_gaps(org.officer, now)) == PANEL_ROWS


def test_the_lecturer_can_start_a_lecture_once_its_room_opens(org):
    now = timezone.now()
    running = make_lecture(org, start=now - dt.timedelta(minutes=5))
    opening = make_lecture(org, start=now + dt.timedelta(minutes=10))
    later = make_lecture(org, start=now + dt.timedelta(days=3))
    make_lecture(org, start=now + dt.timedelta(hours=1), lecturer=org.administrator)  # not theirs

    rows = next_own_lectures(org.lecturer, now)

    assert [row.lecture for row in rows] == [running, opening, later]
    assert [row.open_now for row in rows] == [True, True, False]
    assert next_own_lectures(org.officer, now) == []


def test_next_own_lectures_read_one_query(org, django_assert_max_num_queries):
    now = timezone.now()
    for number in range(PANEL_ROWS + 3):
        make_lecture(org, start=now + dt.timedelta(hours=number + 1))
    with django_assert_max_num_queries(2):  # the roles, the lectures
        assert len(next_own_lectures(org.lecturer, now)) == PANEL_ROWS
