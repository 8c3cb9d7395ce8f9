"""The learner sees each counseling appointment's date, time and place, can add it to a phone
calendar (.ics, own appointments only, logged), and a retest planned "in N days" opens then."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assignment
from audit.models import AccessEvent, Action
from people.privacy import do_acknowledge
from plans.approval import do_approve_plan
from plans.calendar import escape_text, fold
from plans.models import CounselingAppointment, Plan, PlanStatus
from tests.plans.helpers import PHQ9_MODERATE, reviewed

pytestmark = pytest.mark.django_db


def appointment(person, counselor, **extra) -> CounselingAppointment:
    when = dt.datetime(2031, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return CounselingAppointment.objects.create(
        person=person, counselor=counselor, scheduled_at=when, **extra
    )


def test_the_plan_page_lists_own_appointments_with_date_time_and_place(org, client):
    appointment(org.person, org.counselor, place="东城司法所三楼咨询室")
    appointment(org.other_person, org.other_counselor, place="西城某处")
    client.force_login(org.learner)
    text = client.get(reverse("plans_mine")).content.decode()
    assert 'data-testid="my-appointments"' in text
    assert "2031-03-04" in text and "10:00–10:50" in text
    assert "东城司法所三楼咨询室" in text
    assert "西城某处" not in text


def test_an_appointment_without_a_place_is_at_the_persons_justice_office(org, client):
    appointment(org.person, org.counselor)
    client.force_login(org.learner)
    text = client.get(reverse("plans_mine")).content.decode()
    assert f"地点：{org.person.office.name}" in text


def test_the_calendar_file_is_valid_escaped_utc_and_logged(org, client):
    item = appointment(org.person, org.counselor, place="咨询室, 3楼; 东门\\北侧")
    client.force_login(org.learner)
    response = client.get(reverse("plans_appointment_ics", args=[item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\nBEGIN:VEVENT\r\n" in body and "\r\nEND:VEVENT\r\n" in body
    assert "DTSTART:20310304T020000Z\r\n" in body  # 10:00 in Shanghai
    assert "DTEND:20310304T025000Z\r\n" in body
    unfolded = body.replace("\r\n ", "")
    assert "LOCATION:咨询室\\, 3楼\\; 东门\\\\北侧\r\n" in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    event = AccessEvent.objects.get(action=Action.EXPORT)
    assert (event.person_id, event.object_id) == (org.person.pk, str(item.pk))


def test_someone_elses_calendar_file_is_404_and_logged_as_denied(org, client):
    theirs = appointment(org.other_person, org.other_counselor)
    client.force_login(org.learner)
    assert client.get(reverse("plans_appointment_ics", args=[theirs.pk])).status_code == 404
    assert AccessEvent.objects.filter(action=Action.DENIED, person_id=org.other_person.pk).exists()


def test_ics_text_escaping_and_folding():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "DESCRIPTION:" + "咨" * 40
    folded = fold(long)
    assert folded.replace("\r\n ", "") == long
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


def test_a_retest_planned_in_n_days_opens_in_n_days_not_at_once(org, client):
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    plan = Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)
    do_approve_plan(plan, org.counselor, expected_revision=plan.revision)
    retest = Assignment.objects.open().get(person=org.person)
    assert retest.opens_on > timezone.localdate()
    do_acknowledge(org.person)
    client.force_login(org.learner)
    assert (
        f"questionnaire-{retest.pk}" not in client.get(reverse("assessments_mine")).content.decode()
    )
    assert client.get(reverse("assessments_take", args=[retest.pk])).status_code == 404
    # on its day it is there
    Assignment.objects.filter(pk=retest.pk).update(opens_on=timezone.localdate())
    assert f"questionnaire-{retest.pk}" in client.get(reverse("assessments_mine")).content.decode()
