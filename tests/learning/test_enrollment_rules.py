from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent, Action
from learning.enrollment import (
    do_apply_rule,
    do_apply_rules,
    do_apply_rules_to_persons,
    due_date_for,
)
from learning.models import DueFrom, Enrollment, EnrollmentRule, EnrollmentRuleApplication
from people.models import Category, Person, PersonStatus
from people.services import check_roster, do_import_roster, read_roster
from tests.factories import login_staff, make_person
from tests.learning.builders import make_course

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))
days = st.integers(min_value=1, max_value=3650)


# --- The due date (pure) --------------------------------------------------------------------


@given(start=dates, today=dates, n=days)
def test_counted_from_enrollment_the_due_date_is_n_days_from_today(start, today, n):
    assert due_date_for(DueFrom.ENROLLMENT, n, start, today) == today + dt.timedelta(days=n)


@given(start=dates, today=dates, n=days)
def test_counted_from_supervision_start_the_due_date_is_never_in_the_past(start, today, n):
    due = due_date_for(DueFrom.SUPERVISION_START, n, start, today)
    assert due >= today
    assert due <= max(start, today) + dt.timedelta(days=n)
    if start + dt.timedelta(days=n) >= today:
        assert due == start + dt.timedelta(days=n)
    else:  # the window had passed: a full window from today
        assert due == today + dt.timedelta(days=n)


def test_due_dates_by_example():
    start = dt.date(2026, 3, 1)
    assert due_date_for(DueFrom.SUPERVISION_START, 30, start, TODAY) == dt.date(2026, 3, 31)
    assert due_date_for(DueFrom.SUPERVISION_START, 5, start, TODAY) == dt.date(2026, 3, 15)
    assert due_date_for(DueFrom.ENROLLMENT, 30, start, TODAY) == dt.date(2026, 4, 9)


# --- Applying rules -------------------------------------------------------------------------


def make_rule(course, category=Category.NORMAL, **fields) -> EnrollmentRule:
    return EnrollmentRule.objects.create(category=category, course=course, **fields)


@pytest.fixture
def course():
    return make_course(lessons=1)


def enrolled(course) -> set[int]:
    return set(Enrollment.objects.filter(course=course).values_list("person_id", flat=True))


def test_a_rule_enrols_every_active_person_of_its_category(org, course):
    strict = make_person(org.east, category=Category.STRICT)
    ended = make_person(org.west)
    Person.objects.filter(pk=ended.pk).update(status=PersonStatus.ENDED)
    rule = make_rule(course, due_days=14)
    report = do_apply_rule(rule, today=TODAY)
    assert enrolled(course) == {org.person.pk, org.other_person.pk}  # both "normal"
    assert strict.pk not in enrolled(course) and ended.pk not in enrolled(course)
    assert (report.rules, report.persons, report.enrolled) == (1, 2, 2)
    enrollment = Enrollment.objects.get(person=org.person, course=course)
    assert enrollment.rule == rule
    assert enrollment.assigned_by is None
    assert enrollment.due_date == TODAY + dt.timedelta(days=14)


def test_applying_again_changes_nothing(org, course):
    rule = make_rule(course)
    do_apply_rule(rule, today=TODAY)
    before = list(Enrollment.objects.order_by("pk").values_list("pk", "due_date"))
    report = do_apply_rules(today=TODAY + dt.timedelta(days=3))
    assert report.enrolled == 0 and report.persons == 0
    assert list(Enrollment.objects.order_by("pk").values_list("pk", "due_date")) == before
    assert EnrollmentRuleApplication.objects.count() == 2


def test_an_enrollment_an_officer_removed_is_not_brought_back(org, course):
    do_apply_rule(make_rule(course), today=TODAY)
    Enrollment.objects.filter(person=org.person).delete()
    do_apply_rules(today=TODAY)
    assert enrolled(course) == {org.other_person.pk}


def test_an_existing_enrollment_is_left_as_it_was(org, course):
    manual = Enrollment.objects.create(
        person=org.person, course=course, due_date=dt.date(2026, 12, 31), assigned_by=org.officer
    )
    report = do_apply_rule(make_rule(course), today=TODAY)
    manual.refresh_from_db()
    assert manual.due_date == dt.date(2026, 12, 31) and manual.rule is None
    assert report.enrolled == 1  # only other_person is new
    assert Enrollment.objects.filter(course=course).count() == 2


def test_inactive_rules_do_nothing(org, course):
    make_rule(course, active=False)
    assert do_apply_rules(today=TODAY).rules == 0
    assert not Enrollment.objects.exists()


def test_a_rule_waits_for_its_course_to_be_published(org, course):
    course.unpublish()
    rule = make_rule(course)
    do_apply_rules(today=TODAY)
    assert not Enrollment.objects.exists()
    assert not EnrollmentRuleApplication.objects.exists()
    course.save_revision().publish()
    do_apply_rule(rule, today=TODAY)
    assert enrolled(course) == {org.person.pk, org.other_person.pk}


def test_supervision_start_rules_count_from_each_persons_start(org, course):
    Person.objects.filter(pk=org.person.pk).update(supervision_start=dt.date(2026, 3, 5))
    Person.objects.filter(pk=org.other_person.pk).update(supervision_start=dt.date(2025, 1, 1))
    make_rule(course, due_days=20, due_from=DueFrom.SUPERVISION_START)
    do_apply_rules(today=TODAY)
    due = dict(Enrollment.objects.values_list("person_id", "due_date"))
    assert due[org.person.pk] == dt.date(2026, 3, 25)
    assert due[org.other_person.pk] == TODAY + dt.timedelta(days=20)


def test_applying_to_some_persons_leaves_the_others(org, course):
    make_rule(course)
    do_apply_rules_to_persons(Person.objects.filter(pk=org.person.pk), today=TODAY)
    assert enrolled(course) == {org.person.pk}


def test_a_person_who_changes_category_gets_the_new_categorys_rules(org, course):
    strict_course = make_course(lessons=1)
    make_rule(strict_course, category=Category.STRICT)
    do_apply_rules(today=TODAY)
    assert not Enrollment.objects.exists()
    Person.objects.filter(pk=org.person.pk).update(category=Category.STRICT)
    do_apply_rules_to_persons(Person.objects.filter(pk=org.person.pk), today=TODAY)
    assert enrolled(strict_course) == {org.person.pk}


def test_two_rules_of_a_category_each_apply(org, course):
    second = make_course(lessons=1)
    make_rule(course)
    make_rule(second)
    assert do_apply_rules(today=TODAY).enrolled == 4


def test_the_management_command_applies_the_rules(org, course):
    make_rule(course)
    out = io.StringIO()
    call_command("apply_enrollment_rules", stdout=out)
    assert "1 rule(s) applied to 2 new person(s): 2 enrollment(s) created" in out.getvalue()
    out = io.StringIO()
    call_command("apply_enrollment_rules", stdout=out)
    assert "0 enrollment(s) created" in out.getvalue()
    assert Enrollment.objects.count() == 2


# --- The roster import applies rules --------------------------------------------------------


def roster(rows: list[str]) -> io.BytesIO:
    header = "case_number,name,office,category,supervision_start,supervision_end"
    data = io.BytesIO("\n".join([header, *rows]).encode())
    data.name = "roster.csv"
    return data


def test_importing_new_persons_applies_their_categorys_rules(org, course):
    rule = make_rule(course, category=Category.STRICT)
    report = check_roster(read_roster(roster(["R-1,王五,east,严管,2026-01-01,2027-01-01"])))
    assert report.ok, report.errors
    do_import_roster(report)
    person = Person.objects.get(case_number="R-1")
    assert Enrollment.objects.get(person=person, course=course).rule == rule


def test_importing_a_category_change_applies_the_new_rules(org, course):
    make_rule(course, category=Category.LENIENT)
    row = f"{org.person.case_number},张三,east,宽管,2026-01-01,2027-01-01"
    do_import_roster(check_roster(read_roster(roster([row]))))
    assert enrolled(course) == {org.person.pk}


def test_importing_without_a_category_change_applies_nothing(org, course):
    make_rule(course)  # "normal", which org.person already has; never applied so far
    row = f"{org.person.case_number},张三,east,普管,2026-01-01,2027-01-01"
    do_import_roster(check_roster(read_roster(roster([row]))))
    assert not Enrollment.objects.exists()  # left to the nightly command


# --- The administrators' screens ------------------------------------------------------------


def rule_form(course_page, **changes) -> dict:
    data = {
        "category": Category.NORMAL,
        "course": course_page.pk,
        "due_days": 30,
        "due_from": DueFrom.ENROLLMENT,
        "active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_administrator_creates_a_rule_that_applies_at_once(client, org, course):
    login_staff(client, org.administrator)
    add = reverse("enrollment_rules:add")
    assert client.get(add).status_code == 200
    response = client.post(add, rule_form(course))
    assert response.status_code == 302
    rule = EnrollmentRule.objects.get()
    assert rule.created_by == org.administrator
    assert enrolled(course) == {org.person.pk, org.other_person.pk}
    due = timezone.localdate() + dt.timedelta(days=30)
    assert set(Enrollment.objects.values_list("due_date", flat=True)) == {due}
    event = AccessEvent.objects.get(action=Action.CHANGE, object_type="learning.enrollmentrule")
    assert "2 enrolled" in event.detail
    index = client.get(reverse("enrollment_rules:index"))
    assert index.status_code == 200 and course.title in index.text


def test_activating_an_edited_rule_applies_it(client, org, course):
    rule = make_rule(course, active=False, created_by=org.administrator)
    login_staff(client, org.administrator)
    response = client.post(reverse("enrollment_rules:edit", args=[rule.pk]), rule_form(course))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active and rule.created_by == org.administrator
    assert enrolled(course) == {org.person.pk, org.other_person.pk}


@pytest.mark.parametrize(
    "changes",
    [
        {"due_days": 0},
        {"due_days": -3},
        {"due_days": "abc"},
        {"due_days": 99999},
        {"category": "bogus"},
        {"due_from": "tomorrow"},
        {"course": 987654},
    ],
)
def test_bad_rules_are_refused_and_nothing_is_enrolled(client, org, course, changes):
    login_staff(client, org.administrator)
    response = client.post(reverse("enrollment_rules:add"), rule_form(course, **changes))
    assert response.status_code == 200
    assert not EnrollmentRule.objects.exists()
    assert not Enrollment.objects.exists()


def test_an_unpublished_course_cannot_get_a_new_rule(client, org, course):
    course.unpublish()
    login_staff(client, org.administrator)
    client.post(reverse("enrollment_rules:add"), rule_form(course))
    assert not EnrollmentRule.objects.exists()


def test_a_rule_stays_editable_after_its_course_is_unpublished(client, org, course):
    rule = make_rule(course)
    course.unpublish()
    login_staff(client, org.administrator)
    response = client.post(
        reverse("enrollment_rules:edit", args=[rule.pk]), rule_form(course, active=None)
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert not rule.active


def test_the_same_category_and_course_twice_is_refused(client, org, course):
    make_rule(course)
    login_staff(client, org.administrator)
    response = client.post(reverse("enrollment_rules:add"), rule_form(course))
    assert response.status_code == 200
    assert EnrollmentRule.objects.count() == 1


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer"])
def test_only_administrators_manage_rules(client, org, course, role):
    rule = make_rule(course)
    login_staff(client, getattr(org, role))
    for url in (
        reverse("enrollment_rules:index"),
        reverse("enrollment_rules:add"),
        reverse("enrollment_rules:edit", args=[rule.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url
    client.post(reverse("enrollment_rules:add"), rule_form(course, category=Category.STRICT))
    assert EnrollmentRule.objects.count() == 1
    assert not Enrollment.objects.exists()
