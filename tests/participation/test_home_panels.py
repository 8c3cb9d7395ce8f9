"""The admin home's participation panels: the officer's tasks of the day, the bureau's month
and the overdue follow-ups for administrators; scoped, and at a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lib.months import month_start
from participation.models import AbsenceRequest, FollowUp, FollowUpStage, OfficeMonth
from participation.panels import HOME_ROWS, bureau_month, officer_today, overdue_follow_ups
from people.activation import do_issue_activation_code
from tests.factories import login_staff, make_person

TODAY = dt.date(2026, 12, 7)


def _follow_up(person, key: str = "quota:2026-12", **fields) -> FollowUp:
    fields.setdefault("stage", FollowUpStage.OFFICER)
    fields.setdefault("officer_due", TODAY + dt.timedelta(days=3))
    return FollowUp.objects.create(
        person=person,
        period=dt.date(2026, 12, 1),
        requirement_key=key,
        requirement="本月学习 2.5 小时",
        opened_at=timezone.now(),
        **fields,
    )


def _absence(person) -> AbsenceRequest:
    return AbsenceRequest.objects.create(
        person=person,
        period=dt.date(2026, 12, 1),
        requirement_key="quota:2026-12",
        requirement="本月学习",
        reason="住院",
        filed_at=timezone.now(),
        filed_by=person.user,
    )


def _without_password(person):
    person.user.set_unusable_password()
    person.user.save(update_fields=["password"])
    return person


def test_an_officer_sees_their_tasks_grouped_by_person_soonest_first(org):
    later = _follow_up(org.person, "quota:2026-12")
    sooner = _follow_up(org.person, "lecture:1", officer_due=TODAY - dt.timedelta(days=1))
    _follow_up(org.other_person)  # another office
    _follow_up(org.person, "lesson:2", stage=FollowUpStage.REMINDED)  # not the officer's yet

    today = officer_today(org.officer, TODAY)

    assert today.follow_ups.total == 1
    (group,) = today.follow_ups.rows
    assert group.person == org.person
    assert [task.pk for task in group.tasks] == [sooner.pk, later.pk]
    assert group.overdue and group.due == TODAY - dt.timedelta(days=1)


def test_an_officer_sees_pending_leave_requests_and_who_needs_a_code(org):
    waiting = _absence(org.person)
    _absence(org.other_person)
    newcomer = _without_password(make_person(org.east, case_officer=org.officer))
    handed = _without_password(make_person(org.east, case_officer=org.officer))
    do_issue_activation_code(handed, issued_by=org.officer)

    today = officer_today(org.officer, TODAY)

    assert [row.pk for row in today.absences.rows] == [waiting.pk]
    assert [person.pk for person in today.activations.rows] == [newcomer.pk]
    assert not today.nothing


def test_an_officer_with_nothing_to_do_gets_the_empty_state(org):
    assert officer_today(org.officer, TODAY).nothing
    assert officer_today(org.other_officer, TODAY).nothing


def test_a_counselor_has_no_officer_tasks(org):
    _follow_up(org.person)
    _absence(org.person)
    assert officer_today(org.counselor, TODAY).nothing


def test_officer_today_reads_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    def add(count: int) -> None:
        for _ in range(count):
            person = _without_password(make_person(org.east, case_officer=org.officer))
            _follow_up(person)
            _follow_up(person, "lecture:7")
            _absence(person)

    add(1)
    with django_assert_max_num_queries(12) as few:
        officer_today(org.officer, TODAY)
    add(HOME_ROWS + 3)
    with django_assert_max_num_queries(len(few.captured_queries) + 3):  # the three counts
        today = officer_today(org.officer, TODAY)
    assert today.follow_ups.total == HOME_ROWS + 4
    assert len(today.follow_ups.rows) == HOME_ROWS
    assert all(len(group.tasks) == 2 for group in today.follow_ups.rows)
    assert today.absences.more == 4 and today.activations.more == 4


# --- Administrators -----------------------------------------------------------------------


def _office_month(office, persons: int, met: int, at_risk: int) -> None:
    OfficeMonth.objects.create(
        office=office,
        period=month_start(TODAY),
        category="normal",
        persons=persons,
        met=met,
        at_risk=at_risk,
        computed_at=timezone.now(),
    )


def test_the_bureau_month_lists_the_offices_lowest_rate_first(org):
    _office_month(org.east, persons=10, met=9, at_risk=1)
    _office_month(org.west, persons=10, met=2, at_risk=8)

    month = bureau_month(org.administrator, TODAY)

    assert (month.overall.persons, month.overall.complete) == (20, 11)
    assert [office.name for office, _total in month.offices] == ["西司法所", "东司法所"]
    # the bureau holds nobody itself: no row repeating the sum
    assert org.bureau.name not in [office.name for office, _total in month.offices]


def test_the_bureau_month_reads_a_fixed_number_of_queries_whatever_the_offices(
    org, django_assert_max_num_queries
):
    _office_month(org.east, persons=5, met=1, at_risk=4)
    with django_assert_max_num_queries(3) as few:  # the roles, the offices, their figures
        bureau_month(org.administrator, TODAY)
    for number in range(12):
        office = org.bureau.add_child(name=f"所{number}", code=f"o{number}", kind="office")
        org.bureau.refresh_from_db()
        _office_month(office, persons=5, met=number % 5, at_risk=5 - number % 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        month = bureau_month(org.administrator, TODAY)
    assert len(month.offices) == HOME_ROWS


def test_overdue_follow_ups_are_the_escalated_and_the_officers_late_ones(org):
    escalated = _follow_up(org.other_person, stage=FollowUpStage.ADMINISTRATOR)
    late = _follow_up(org.person, officer_due=TODAY - dt.timedelta(days=2), officer=org.officer)
    _follow_up(org.person, "lecture:3")  # still in time

    rows = overdue_follow_ups(org.administrator, TODAY)

    assert {row.pk for row in rows.rows} == {escalated.pk, late.pk}
    assert overdue_follow_ups(org.officer, TODAY).rows == [late]  # their scope only
    assert overdue_follow_ups(org.counselor, TODAY).rows == []


def test_overdue_follow_ups_read_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    for _ in range(HOME_ROWS + 2):
        person = make_person(org.west)
        _follow_up(person, stage=FollowUpStage.ADMINISTRATOR)
    with django_assert_max_num_queries(4):  # rows, count, scope's roles, titles
        rows = overdue_follow_ups(org.administrator, TODAY)
    assert rows.total == HOME_ROWS + 2 and len(rows.rows) == HOME_ROWS


@pytest.mark.parametrize("role", ["counselor", "lecturer", "editor", "outsider"])
def test_people_outside_the_scope_see_no_follow_ups(org, role):
    _follow_up(org.person, stage=FollowUpStage.ADMINISTRATOR)
    assert overdue_follow_ups(getattr(org, role), TODAY).rows == []


def test_the_bureau_month_on_the_home_says_the_month_is_in_progress(client, org):
    OfficeMonth.objects.create(
        office=org.east,
        period=month_start(timezone.localdate()),
        category="normal",
        persons=4,
        met=0,
        at_risk=4,
        computed_at=timezone.now(),
    )
    login_staff(client, org.administrator)
    html = client.get("/admin/").content.decode()
    assert "本月进行中，截至目前： <strong>0.0%</strong>" in html
    assert "截至目前参与率" in html
