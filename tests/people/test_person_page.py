"""One page per person (一人一档, ``people.person_page``): who sees what, that officers never
see a score, that the page costs the same number of queries however long the history, that
each view is logged once, and the timeline's filter."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.models import Review
from audit.models import AccessEvent, Action
from learning.models import Enrollment, LessonProgress
from live.models import Attendance, Makeup, MakeupKind
from live.services import current_policy
from notifications.models import Notification, NotificationKind
from participation import rollups
from participation.models import (
    AbsenceRequest,
    AbsenceStatus,
    FollowUp,
    MonthStatus,
    PersonMonth,
)
from people import person_page
from people import views as people_views
from plans.models import AppointmentStatus, CounselingAppointment
from tests.assessments.helpers import stored_result
from tests.factories import login_staff
from tests.learning.builders import lessons_of, make_course
from tests.live.helpers import past_lecture
from tests.plans.helpers import drafted

pytestmark = pytest.mark.django_db

PHQ9_SEVERE = [3, 3, 3, 2, 2, 2, 2, 2, 0]
_keys = itertools.count(1)


def add_history(org, rounds: int) -> None:
    """``rounds`` of everything the page shows, for ``org.person``: months, absences,
    follow-ups, courses and lessons, lectures and makeups, reviewed questionnaires, plan
    changes and appointments, messages."""
    person = org.person
    now = timezone.now()
    months = rollups.last_months(timezone.localdate(), 12)
    for index in range(rounds):
        key = next(_keys)
        period = months[-1 - index]
        PersonMonth.objects.update_or_create(
            person=person,
            period=period,
            defaults={
                "office": person.office,
                "category": person.category,
                "status": MonthStatus.AT_RISK if index == 0 else MonthStatus.MET,
                "required": 3,
                "met": 1,
                "missing": [{"kind": "lecture", "title": f"法治讲座 {key}", "due": ""}],
                "study_minutes": 120,
                "quota_minutes": 480,
                "computed_at": now,
            },
        )
        AbsenceRequest.objects.create(
            person=person,
            period=period,
            requirement_key=f"lecture:{9000 + key}",
            requirement=f"讲座 {key}",
            reason="生病",
            filed_by=org.learner,
            filed_at=now - dt.timedelta(days=index + 1),
            status=AbsenceStatus.APPROVED,
            decided_by=org.officer,
            decided_at=now - dt.timedelta(days=index),
        )
        FollowUp.objects.create(
            person=person,
            period=period,
            requirement_key=f"course:{9000 + key}",
            requirement=f"课程 {key}",
            opened_at=now - dt.timedelta(days=index + 2),
        )
        course = make_course(lessons=1, quiz=False)
        Enrollment.objects.create(person=person, course=course, assigned_by=org.officer)
        LessonProgress.objects.create(
            person=person,
            lesson=lessons_of(course)[0],
            credited_seconds=300,
            completed_at=now - dt.timedelta(days=index),
        )
        lecture = past_lecture(org, hours_ago=3 + 24 * index)
        Attendance.objects.create(
            lecture=lecture,
            person=person,
            status="absent",
            policy=current_policy(),
            computed_at=now,
        )
        Makeup.objects.create(
            person=person,
            lecture=lecture,
            kind=MakeupKind.RECORDING,
            due_date=timezone.localdate() + dt.timedelta(days=7),
        )
        result = stored_result(person, PHQ9_SEVERE, now - dt.timedelta(days=index + 1))
        Review.objects.create(
            result=result,
            counselor=org.counselor,
            interpretation="谈过",
            signed_at=now - dt.timedelta(days=index),
        )
        CounselingAppointment.objects.create(
            person=person,
            counselor=org.counselor,
            scheduled_at=now - dt.timedelta(days=index + 3),
            status=AppointmentStatus.ATTENDED,
        )
        Notification.objects.create(
            recipient=org.learner, kind=NotificationKind.REMINDER, title=f"提醒 {key}"
        )
    if rounds:
        drafted(org)


def page(client, org, user, query: str = "", person=None):
    login_staff(client, user)
    url = reverse("people_person_detail", args=[(person or org.person).pk])
    return client.get(url + query)


# --- Who sees the page ------------------------------------------------------------------------


ALL_SECTIONS = {"participation", "courses", "lectures", "questionnaires", "plan", "messages"}


@pytest.mark.parametrize(
    ("role", "hidden"),
    [
        ("officer", set()),
        ("counselor", {"participation"}),
        # Plans need plans.view_bureau_plans, granted per administrator (plans.models).
        ("administrator", {"plan"}),
    ],
)
def test_staff_in_scope_see_the_summary_and_their_sections(client, org, role, hidden):
    add_history(org, 1)
    response = page(client, org, getattr(org, role))
    assert response.status_code == 200
    text = response.text
    assert org.person.full_name in text
    assert 'data-testid="person-summary"' in text
    shown = {s for s in ALL_SECTIONS if f'data-testid="person-section-{s}"' in text}
    assert shown == ALL_SECTIONS - hidden
    assert 'data-testid="timeline-entries"' in text


def test_participation_is_shown_to_officers_and_not_to_counselors(client, org):
    add_history(org, 2)
    officer_page = page(client, org, org.officer).text
    assert 'data-testid="participation-strip"' in officer_page
    assert "讲座" in officer_page  # an absence request
    counselor_page = page(client, org, org.counselor).text
    assert 'data-testid="participation-strip"' not in counselor_page
    assert 'data-testid="person-absences"' not in counselor_page


@pytest.mark.parametrize(
    "role", ["other_officer", "other_counselor", "lecturer", "editor", "outsider"]
)
def test_out_of_scope_and_other_roles_are_refused(client, org, role):
    add_history(org, 1)
    response = page(client, org, getattr(org, role))
    assert response.status_code in (302, 403, 404)
    assert org.person.case_number not in response.text
    assert "提醒" not in response.text


def test_counselor_of_someone_else_gets_404(client, org):
    response = page(client, org, org.counselor, person=org.other_person)
    assert response.status_code == 404


# --- Scores -----------------------------------------------------------------------------------


def test_counselor_sees_scores_and_the_result_link(client, org):
    add_history(org, 1)
    text = page(client, org, org.counselor).text
    assert 'data-testid="results-withheld"' not in text
    assert reverse("assessments_result_detail", args=[org.person.results.first().pk]) in text
    assert "：19 (" in text  # PHQ-9 total 19 with its band


@pytest.mark.parametrize("role", ["officer", "administrator"])
def test_officers_and_administrators_without_the_permission_see_a_review_never_a_score(
    client, org, role
):
    add_history(org, 2)
    text = page(client, org, getattr(org, role)).text
    assert 'data-testid="results-withheld"' in text
    result = org.person.results.first()
    signed = timezone.localtime(result.review.signed_at)
    assert f"已于 {signed:%Y-%m-%d} 审阅" in text
    assert reverse("assessments_result_detail", args=[result.pk]) not in text
    assert "：19 (" not in text
    assert (
        "19"
        not in text.split('data-testid="person-section-questionnaires"')[1].split("</section>")[0]
    )


def test_administrator_with_view_result_sees_scores(client, org):
    add_history(org, 1)
    org.administrator.user_permissions.add(
        Permission.objects.get(codename="view_result", content_type__app_label="assessments")
    )
    text = page(client, org, org.administrator).text
    assert 'data-testid="results-withheld"' not in text
    assert "：19 (" in text


# --- Cost and logging -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "counselor"])
def test_the_number_of_queries_does_not_grow_with_the_history(
    client, org, role, django_assert_max_num_queries
):
    user = getattr(org, role)
    add_history(org, 1)
    login_staff(client, user)
    url = reverse("people_person_detail", args=[org.person.pk])
    client.get(url)  # warm caches (instrument definitions, site root)
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    add_history(org, 4)
    with django_assert_max_num_queries(len(short)):
        response = client.get(url)
    assert response.status_code == 200
    assert response.text.count('class="person-timeline__entry') > 10


def test_each_view_is_logged_once(client, org):
    add_history(org, 1)
    login_staff(client, org.officer)
    before = AccessEvent.objects.filter(person_id=org.person.pk).count()
    client.get(reverse("people_person_detail", args=[org.person.pk]) + "?kind=lectures")
    events = AccessEvent.objects.filter(person_id=org.person.pk).order_by("pk")[before:]
    assert [(e.action, e.username, e.object_id) for e in events] == [
        (Action.VIEW, "officer", str(org.person.pk))
    ]


def test_a_refused_view_is_logged_as_a_denial(client, org):
    page(client, org, org.other_officer)
    assert AccessEvent.objects.filter(
        person_id=org.person.pk, action=Action.DENIED, username="other_officer"
    ).exists()


# --- Timeline ---------------------------------------------------------------------------------


def _kinds(text: str) -> set[str]:
    return {part.split('"', 1)[0] for part in text.split('data-kind="')[1:]}


def test_timeline_merges_every_source_newest_first(client, org):
    add_history(org, 2)
    text = page(client, org, org.officer).text
    assert {"study", "lectures", "absences", "follow_up", "questionnaires", "plan", "messages"} <= (
        _kinds(text)
    )
    times = [part.split('"', 1)[0] for part in text.split('<time datetime="')[1:]]
    assert times == sorted(times, reverse=True)


def test_timeline_filters_by_kind(client, org):
    add_history(org, 2)
    text = page(client, org, org.officer, "?kind=lectures&kind=messages").text
    assert _kinds(text) == {"lectures", "messages"}
    assert 'value="lectures" checked' in text


@pytest.mark.parametrize(
    "query",
    [
        "?kind=nonsense",
        "?kind=%3Cscript%3E",
        "?shown=abc",
        "?shown=-5",
        "?shown=99999999999999999999",
    ],
)
def test_a_bad_filter_is_ignored_with_a_message(client, org, query):
    add_history(org, 1)
    response = page(client, org, org.officer, query)
    assert response.status_code == 200
    assert 'data-testid="timeline-ignored"' in response.text
    assert "<script>" not in response.text
    assert len(_kinds(response.text)) > 3  # everything is shown


def test_a_long_timeline_is_capped_with_a_more_link(client, org, monkeypatch):
    monkeypatch.setattr(people_views, "TIMELINE_STEP", 5)
    add_history(org, 2)
    text = page(client, org, org.officer).text
    assert text.count('class="person-timeline__entry') == 5
    assert 'data-testid="timeline-more"' in text
    assert "shown=10" in text
    more = page(client, org, org.officer, "?shown=10").text
    assert more.count('class="person-timeline__entry') == 10


# --- Links from the lists ---------------------------------------------------------------------


def test_lists_that_name_the_person_link_to_the_page(client, org):
    add_history(org, 1)
    target = reverse("people_person_detail", args=[org.person.pk])
    login_staff(client, org.officer)
    period = f"?month={timezone.localdate():%Y-%m}"
    for url in (
        reverse("learning_participation_office", args=[org.east.pk]) + period,
        reverse("learning_participation_person", args=[org.person.pk]),
        reverse("learning_absence_queue") + "?status=decided",
        reverse("plans_plan_list"),
        reverse("people_person_list"),
    ):
        assert target in client.get(url).text, url
    stored_result(org.person, PHQ9_SEVERE, timezone.now())  # waits for a review
    login_staff(client, org.counselor)
    assert target in client.get(reverse("assessments_review_queue")).text


# --- Language ---------------------------------------------------------------------------------

# What the test data itself spells in Latin letters (course builders, usernames, case numbers,
# instrument abbreviations, the export's file format); anything else in Latin letters is an
# untranslated string.
DATA_WORDS = re.compile(r"Course \d+|Lesson \d+\.\d+|CASE-\d+|PHQ-9|officer|counselor|learner|JSON")


class _MainText(HTMLParser):
    """The visible text inside ``<main>`` (scripts and styles left out)."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "main"
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.depth -= tag == "main"
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if self.depth > 0 and not self.skip:
            self.parts.append(data)


@pytest.mark.parametrize("role", ["officer", "counselor", "administrator"])
def test_the_page_has_no_english_words_in_chinese(client, org, role):
    add_history(org, 1)
    parser = _MainText()
    parser.feed(page(client, org, getattr(org, role)).text)
    text = DATA_WORDS.sub(" ", " ".join(parser.parts))
    assert "讲座与补课" in text
    assert set(re.findall(r"[A-Za-z]{2,}", text)) == set()


def test_any_timeline_query_answers_without_an_error(org):
    client = Client(raise_request_exception=False)
    login_staff(client, org.officer)
    url = reverse("people_person_detail", args=[org.person.pk])
    words = st.text(max_size=30)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        kinds=st.lists(st.one_of(st.sampled_from(["lectures", "plan", ""]), words), max_size=4),
        shown=words,
    )
    def run(kinds, shown):
        response = client.get(url, {"kind": kinds, "shown": shown})
        # 400 is Django refusing a NUL or undecodable byte before the view runs.
        assert response.status_code in (200, 400), response.status_code

    run()


# --- Queries: each app's access check once per view --------------------------------------------


def test_a_visit_asks_each_check_and_each_read_once(org):
    asked: list[str] = []

    def check(person, user) -> bool:
        asked.append("check")
        return True

    def read(person) -> int:
        asked.append("read")
        return person.pk

    visit = person_page.Visit(org.person, org.officer)
    assert visit.allows(check) and visit.allows(check)
    assert visit.once(read) == visit.once(read) == org.person.pk
    assert asked == ["check", "read"]


# Pinned: one query more means a provider reads something per fact or per section again (an
# access check asked by each of an app's fact, section and timeline source, a row read twice).
PAGE_QUERIES = {"officer": 56, "counselor": 49, "administrator": 50}


@pytest.mark.parametrize("role", sorted(PAGE_QUERIES))
def test_the_person_page_runs_a_fixed_number_of_queries(
    client, org, role, django_assert_num_queries
):
    add_history(org, 2)
    login_staff(client, getattr(org, role))
    url = reverse("people_person_detail", args=[org.person.pk])
    client.get(url)  # warm caches (instrument definitions, site root)
    with django_assert_num_queries(PAGE_QUERIES[role]):
        assert client.get(url).status_code == 200
