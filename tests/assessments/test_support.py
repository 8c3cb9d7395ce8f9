"""A critical answer shows the learner a calm help page at once (110 / 120, the national
hotline 12356 and the bureau's duty number), and the counselor's admin home lists the open
alerts first with the time left before escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from assessments.models import Alert, CrisisLines
from assessments.panels import OpenAlertsPanel, open_alert_rows
from people.privacy import do_acknowledge
from tests.assessments.helpers import answer_all, assign, submitted
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

PHQ9_ITEM9_SEVERAL_DAYS = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # item 9 "好几天"
SDS_ITEM19 = [0] * 18 + [2, 0]  # SDS item 19 at its critical option


@pytest.fixture
def learner_client(client, org):
    do_acknowledge(org.person)
    client.force_login(org.learner)
    return client


def send(client, assignment, answers):
    answer_all(assignment, answers)
    return client.post(reverse("assessments_take", args=[assignment.pk]), {"submit": "1"})


@pytest.mark.parametrize(
    ("slug", "answers"), [("phq9", PHQ9_ITEM9_SEVERAL_DAYS), ("sds", SDS_ITEM19)]
)
def test_a_critical_answer_leads_straight_to_the_help_page(org, learner_client, slug, answers):
    assignment = assign(org.person, org.counselor, slug=slug)
    response = send(learner_client, assignment, answers)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments_support", args=[assignment.pk])

    page = learner_client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "咨询师今天会联系您" in text
    for number in ('href="tel:110"', 'href="tel:120"', 'href="tel:12356"'):
        assert number in text
    assert page["Cache-Control"] == "no-store, private"
    assert Alert.objects.filter(person=org.person).count() == 1


def test_the_help_page_shows_the_bureaus_own_duty_number_in_english_too(org, learner_client):
    lines = CrisisLines.load()
    lines.duty_phone = "010-1234 5678"
    lines.duty_hours = "每天 8:30–17:30"
    lines.save()
    assignment = assign(org.person, org.counselor)
    send(learner_client, assignment, PHQ9_ITEM9_SEVERAL_DAYS)
    learner_client.cookies["django_language"] = "en"
    text = learner_client.get(reverse("assessments_support", args=[assignment.pk])).content
    text = text.decode()
    assert 'href="tel:01012345678"' in text
    assert "Justice bureau duty line: 010-1234 5678" in text
    assert "will contact you today" in text
    assert "12356" in text


def test_the_duty_number_defaults_to_12356():
    assert CrisisLines.load().duty_phone == "12356"


def test_a_quiet_answer_gets_the_thank_you_and_no_help_page(org, learner_client):
    assignment = assign(org.person, org.counselor)
    response = send(learner_client, assignment, [0] * 9)
    assert response["Location"] == reverse("assessments_mine")
    # the help page of a quiet result sends the person back to the list
    again = learner_client.get(reverse("assessments_support", args=[assignment.pk]))
    assert again.status_code == 302 and again["Location"] == reverse("assessments_mine")


def test_another_persons_help_page_is_404(org, client):
    result = submitted(org.other_person, PHQ9_ITEM9_SEVERAL_DAYS, org.other_counselor)
    do_acknowledge(org.person)
    client.force_login(org.learner)
    url = reverse("assessments_support", args=[result.response.assignment_id])
    assert client.get(url).status_code == 404


def test_the_counselors_home_lists_open_alerts_first_with_the_time_left(org, client):
    submitted(org.person, PHQ9_ITEM9_SEVERAL_DAYS, org.counselor)
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - dt.timedelta(hours=20))
    login_staff(client, org.counselor)
    text = client.get("/admin/").content.decode()
    assert 'data-testid="home-open-alerts"' in text
    assert org.person.full_name in text
    assert "3 h 59 min" in text or "3 小时 59 分" in text

    # first: Wagtail sorts the home panels by ``order``; this one comes before all others
    request = RequestFactory().get("/admin/")
    request.user = org.counselor
    panels = []
    for hook in hooks.get_hooks("construct_homepage_panels"):
        hook(request, panels)
    assert isinstance(min(panels, key=lambda panel: panel.order), OpenAlertsPanel)


def test_the_panel_counts_down_and_marks_an_overdue_alert(org):
    submitted(org.person, PHQ9_ITEM9_SEVERAL_DAYS, org.counselor)
    alert = Alert.objects.get()
    now = alert.created_at + dt.timedelta(hours=23, minutes=30)
    assert [row.minutes_left for row in open_alert_rows(org.counselor, now)] == [30]
    assert open_alert_rows(org.counselor, now + dt.timedelta(hours=1))[0].minutes_left == 0
    assert open_alert_rows(org.other_counselor, now) == []  # not their caseload


def test_people_without_results_access_get_no_alert_panel(org, client):
    submitted(org.person, PHQ9_ITEM9_SEVERAL_DAYS, org.counselor)
    login_staff(client, org.officer)
    text = client.get("/admin/").content.decode()
    assert "home-open-alerts" not in text
