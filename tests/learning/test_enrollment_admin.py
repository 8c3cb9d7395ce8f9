from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from learning.certificates import do_issue_certificate
from learning.enrollment import do_enroll, enrollable_persons
from learning.models import Enrollment, LessonProgress
from people.models import Category, Person, PersonStatus
from tests.factories import login_staff, make_person
from tests.learning.builders import lessons_of, make_course

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ENROLL = reverse("learning_enroll")
LIST = reverse("learning_enrollment_list")


def due(days: int = 30) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def post_enroll(client, course, **target):
    data = {"course": course.pk, "due_date": target.pop("due_date", due()).isoformat()}
    data.update(target)
    return client.post(ENROLL, data)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def last_message(response) -> str:
    return texts(response)[-1]


def refused(response) -> bool:
    """A 403, or Wagtail's way of saying it: back to the admin home with an error."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == "/admin/"
    )


@pytest.fixture
def course():
    return make_course(lessons=1)


# --- Assigning ------------------------------------------------------------------------------


def test_an_officer_enrols_chosen_persons_and_sees_the_counts(client, org, course):
    second = make_person(org.east, case_officer=org.officer)
    login_staff(client, org.officer)
    assert client.get(ENROLL).status_code == 200
    response = post_enroll(client, course, persons=[org.person.pk, second.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?course={course.pk}"
    rows = Enrollment.objects.filter(course=course)
    assert {e.person_id for e in rows} == {org.person.pk, second.pk}
    assert {e.assigned_by_id for e in rows} == {org.officer.pk}
    assert {e.due_date for e in rows} == {due()}
    assert "2 newly enrolled, 0 given the new due date" in last_message(response)


def test_assigning_again_updates_the_due_date_instead_of_duplicating(client, org, course):
    login_staff(client, org.officer)
    post_enroll(client, course, persons=[org.person.pk])
    response = post_enroll(client, course, persons=[org.person.pk], due_date=due(60))
    enrollment = Enrollment.objects.get(course=course)
    assert enrollment.due_date == due(60)
    assert "0 newly enrolled, 1 given the new due date, 0 already" in last_message(response)
    response = post_enroll(client, course, persons=[org.person.pk], due_date=due(60))
    assert "0 newly enrolled, 0 given the new due date, 1 already" in last_message(response)
    assert Enrollment.objects.filter(course=course).count() == 1


def test_enrolling_an_office_reaches_its_subtree_within_scope(client, org, course):
    sub = org.east.add_child(name="东分所", code="east-sub")
    nested = make_person(sub)
    ended = make_person(org.east)
    Person.objects.filter(pk=ended.pk).update(status=PersonStatus.ENDED)
    login_staff(client, org.administrator)
    org.east.refresh_from_db()
    post_enroll(client, course, office=org.east.pk)
    enrolled = set(Enrollment.objects.filter(course=course).values_list("person_id", flat=True))
    assert enrolled == {org.person.pk, nested.pk}  # not the ended person, not west


def test_enrolling_a_category_stays_inside_the_officers_scope(client, org, course):
    strict_east = make_person(org.east, category=Category.STRICT)
    make_person(org.west, category=Category.STRICT)
    login_staff(client, org.officer)
    post_enroll(client, course, category=Category.STRICT)
    enrolled = set(Enrollment.objects.filter(course=course).values_list("person_id", flat=True))
    assert enrolled == {strict_east.pk}


def test_the_action_is_written_to_the_access_log(client, org, course):
    login_staff(client, org.officer)
    post_enroll(client, course, persons=[org.person.pk])
    event = AccessEvent.objects.get(action=Action.CHANGE)
    assert event.username == "officer"
    assert event.object_type == "courses.coursepage"
    assert event.object_id == str(course.pk)
    assert event.person_id == org.person.pk
    assert "1 new" in event.detail and due().isoformat() in event.detail


def test_a_person_outside_the_scope_cannot_be_enrolled(client, org, course):
    login_staff(client, org.officer)
    response = post_enroll(client, course, persons=[org.other_person.pk])
    assert response.status_code == 200
    assert "persons" in response.context["form"].errors
    assert not Enrollment.objects.exists()
    assert not AccessEvent.objects.filter(action=Action.CHANGE).exists()


def test_an_office_outside_the_scope_cannot_be_chosen(client, org, course):
    login_staff(client, org.officer)
    response = post_enroll(client, course, office=org.west.pk)
    assert "office" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_an_unpublished_course_cannot_be_assigned(client, org, course):
    course.unpublish()
    login_staff(client, org.officer)
    response = post_enroll(client, course, persons=[org.person.pk])
    assert "course" in response.context["form"].errors
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    "target",
    [
        {},
        {"persons": "PERSON", "category": Category.NORMAL},
        {"category": "bogus"},
        {"persons": "not-a-number"},
        {"office": "99999999999999999999999"},
    ],
)
def test_bad_targets_are_refused_with_nothing_changed(client, org, course, target):
    target = {k: (org.person.pk if v == "PERSON" else v) for k, v in target.items()}
    login_staff(client, org.officer)
    response = post_enroll(client, course, **target)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("value", ["yesterday", "", "2026-02-30", "not a date"])
def test_a_missing_past_or_malformed_due_date_is_refused(client, org, course, value):
    login_staff(client, org.officer)
    data = {"course": course.pk, "persons": [org.person.pk]}
    data["due_date"] = (
        (timezone.localdate() - dt.timedelta(days=1)).isoformat() if value == "yesterday" else value
    )
    response = client.post(ENROLL, data)
    assert response.status_code == 200
    assert "due_date" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_an_office_with_nobody_active_says_so(client, org, course):
    empty = org.bureau.add_child(name="空所", code="empty")
    login_staff(client, org.administrator)
    response = post_enroll(client, course, office=empty.pk)
    assert "Nobody was enrolled" in last_message(response)


def test_the_service_drops_persons_outside_the_users_scope(org, course):
    everyone = Person.objects.filter(pk__in=[org.person.pk, org.other_person.pk])
    result = do_enroll(org.officer, course, everyone, due())
    assert result.created == 1
    assert list(Enrollment.objects.values_list("person_id", flat=True)) == [org.person.pk]


def test_the_service_refuses_an_unpublished_course(org, course):
    course.unpublish()
    with pytest.raises(ValueError):
        do_enroll(org.officer, course, enrollable_persons(org.officer), due())


def test_ended_persons_are_not_enrollable(org):
    Person.objects.filter(pk=org.person.pk).update(status=PersonStatus.ENDED)
    assert not enrollable_persons(org.officer).exists()


# --- Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["counselor", "lecturer"])
def test_other_staff_cannot_enrol_list_or_remove(client, org, course, role):
    enrollment = Enrollment.objects.create(person=org.person, course=course)
    login_staff(client, getattr(org, role))
    assert refused(client.get(ENROLL))
    assert refused(post_enroll(client, course, persons=[org.person.pk]))
    assert refused(client.get(LIST))
    assert refused(client.post(reverse("learning_unenroll", args=[enrollment.pk])))
    assert Enrollment.objects.count() == 1
    assert AccessEvent.objects.filter(action=Action.DENIED).count() == 4


@pytest.mark.parametrize("role", ["learner", "outsider"])
def test_non_staff_are_sent_to_the_admin_sign_in(client, org, role):
    client.force_login(getattr(org, role))
    for url in (ENROLL, LIST):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- The list and removing ------------------------------------------------------------------


def test_the_list_shows_only_the_officers_scope(client, org, course):
    mine = Enrollment.objects.create(person=org.person, course=course, due_date=due())
    theirs = Enrollment.objects.create(person=org.other_person, course=course)
    login_staff(client, org.officer)
    page = client.get(LIST).text
    assert f'data-testid="enrollment-{mine.pk}"' in page
    assert f'data-testid="enrollment-{theirs.pk}"' not in page
    assert org.other_person.case_number not in page
    login_staff(client, org.administrator)
    assert f'data-testid="enrollment-{theirs.pk}"' in client.get(LIST).text


def test_the_list_filters_by_course_and_name(client, org, course):
    other_course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    second = Enrollment.objects.create(person=org.person, course=other_course)
    login_staff(client, org.officer)
    page = client.get(LIST, {"course": other_course.pk}).text
    assert f'data-testid="enrollment-{second.pk}"' in page and page.count("enrollment-") == 2
    assert 'data-testid="no-enrollments"' in client.get(LIST, {"q": "nobody-here"}).text
    assert client.get(LIST, {"course": "x'--", "p": "-1"}).status_code == 200


def test_the_list_offers_the_certificate_of_a_completed_course(client, org):
    course = make_course(lessons=1, quiz=False)
    Enrollment.objects.create(person=org.person, course=course)
    LessonProgress.objects.create(
        person=org.person,
        lesson=lessons_of(course)[0],
        credited_seconds=600,
        completed_at=timezone.now(),
    )
    certificate = do_issue_certificate(org.person, course)
    login_staff(client, org.officer)
    page = client.get(LIST).text
    assert reverse("learning_certificate_staff", args=[certificate.pk]) in page


def _certified(person, course):
    """``person`` completes ``course`` (one lesson, no quiz) and is given its certificate."""
    LessonProgress.objects.create(
        person=person,
        lesson=lessons_of(course)[0],
        credited_seconds=600,
        completed_at=timezone.now(),
    )
    return do_issue_certificate(person, course)


def _grow(org, count: int) -> None:
    """``count`` more enrolments in the east office, each with a certificate and an assigner."""
    for _ in range(count):
        person = make_person(org.east)
        course = make_course(lessons=1, quiz=False)
        Enrollment.objects.create(person=person, course=course, assigned_by=org.officer)
        _certified(person, course)


def test_the_list_runs_a_fixed_number_of_queries(client, org, django_assert_num_queries):
    """Paged on a narrow query, then the page's rows and their certificates: the same number of
    queries for 2 rows as for 14, certificates included."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login_staff(client, org.administrator)
    _grow(org, 2)
    client.get(LIST)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST).status_code == 200
    assert len(small.captured_queries) <= 25  # admin chrome included
    _grow(org, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(LIST)
    assert response.text.count('data-testid="enrollment-') == 14 + 1  # rows and the table
    assert response.text.count('/pdf/"') == 14  # each row its certificate


def test_only_the_page_rows_are_fetched_with_their_joins(client, org, monkeypatch):
    """The ordering query selects ids only; the joined rows are fetched for one page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from learning import enrollment_views

    monkeypatch.setattr(enrollment_views.EnrollmentIndexView, "paginate_by", 5)
    _grow(org, 7)
    login_staff(client, org.administrator)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(LIST).text
    assert page.count('data-testid="enrollment-') == 5 + 1
    enrolments = [
        q["sql"] for q in captured.captured_queries if 'FROM "learning_enrollment"' in q["sql"]
    ]
    paged = [sql for sql in enrolments if "LIMIT 5" in sql]
    assert len(paged) == 1 and '"people_person"."office_id"' not in paged[0].split("FROM")[0]
    assert not any("learning_certificate" in sql for sql in enrolments)  # no per-row subquery


def test_filters_search_and_ordering(client, org, course):
    other_course = make_course(lessons=1)
    east = Enrollment.objects.create(person=org.person, course=course)
    west = Enrollment.objects.create(person=org.other_person, course=other_course)
    login_staff(client, org.administrator)
    mine, theirs = f'"enrollment-{east.pk}"', f'"enrollment-{west.pk}"'
    html = client.get(LIST, {"office": org.east.pk}).text
    assert mine in html and theirs not in html
    html = client.get(LIST, {"course": other_course.pk}).text
    assert theirs in html and mine not in html
    html = client.get(LIST, {"q": org.other_person.case_number}).text
    assert theirs in html and mine not in html
    results = client.get(reverse("learning_enrollment_list_results"), {"q": org.person.full_name})
    assert mine in results.text and theirs not in results.text
    up = client.get(LIST, {"ordering": "person__case_number"}).text
    down = client.get(LIST, {"ordering": "-person__case_number"}).text
    first, second = sorted([(org.person.case_number, mine), (org.other_person.case_number, theirs)])
    assert up.index(first[1]) < up.index(second[1]) and down.index(second[1]) < down.index(first[1])
    # a value not understood is dropped, the other filters still apply
    html = client.get(LIST, {"office": "x'--", "course": course.pk, "ordering": "nope"}).text
    assert mine in html and theirs not in html


def test_another_office_sees_none_of_this_one_whatever_the_filters(client, org, course):
    east = Enrollment.objects.create(person=org.person, course=course)
    login_staff(client, org.other_officer)
    for params in (
        {},
        {"q": org.person.case_number},
        {"office": org.east.pk},
        {"course": course.pk},
    ):
        for url in (LIST, reverse("learning_enrollment_list_results")):
            assert f'"enrollment-{east.pk}"' not in client.get(url, params).text, (url, params)


def test_the_empty_list_names_the_next_step(client, org):
    login_staff(client, org.officer)
    page = client.get(LIST).text
    assert 'data-testid="no-enrollments"' in page and "Assign a course to persons" in page
    assert 'data-testid="assign-course"' in page


def test_the_export_is_logged_and_for_administrators_only(client, org):
    course = make_course(lessons=1, quiz=False)
    Enrollment.objects.create(person=org.person, course=course, assigned_by=org.officer)
    _certified(org.person, course)
    org.other_person.full_name = "=HYPERLINK(1)"
    org.other_person.save(update_fields=["full_name"])
    Enrollment.objects.create(person=org.other_person, course=course)
    login_staff(client, org.administrator)
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(LIST, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert org.person.case_number in body and course.title in body
    assert "Yes" in body and "No" in body  # the certificate, as a word
    assert "'=HYPERLINK(1)" in body  # formula-safe
    assert "<" not in body
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    login_staff(client, org.officer)
    refused_export = client.get(LIST, {"export": "csv"})
    assert refused_export.status_code in (302, 403) and not refused_export.get(
        "Content-Disposition"
    )


def test_an_officer_removes_an_enrollment_in_scope(client, org, course):
    enrollment = Enrollment.objects.create(person=org.person, course=course)
    progress = LessonProgress.objects.create(
        person=org.person, lesson=lessons_of(course)[0], credited_seconds=30
    )
    login_staff(client, org.officer)
    url = reverse("learning_unenroll", args=[enrollment.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert not Enrollment.objects.exists()
    assert LessonProgress.objects.filter(pk=progress.pk).exists()  # study time is kept
    event = AccessEvent.objects.get(action=Action.CHANGE)
    assert event.object_type == "learning.enrollment" and event.person_id == org.person.pk
    assert "no longer has the course" in last_message(response)


def test_removing_outside_the_scope_is_404_and_logged(client, org, course):
    enrollment = Enrollment.objects.create(person=org.other_person, course=course)
    login_staff(client, org.officer)
    assert client.post(reverse("learning_unenroll", args=[enrollment.pk])).status_code == 404
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()
    denial = AccessEvent.objects.get(action=Action.DENIED)
    assert denial.person_id == org.other_person.pk
    assert client.post(reverse("learning_unenroll", args=[987654])).status_code == 404


def test_the_menu_shows_enrollments_to_officers_only(client, org):
    login_staff(client, org.officer)
    assert LIST in client.get("/admin/").text
    login_staff(client, org.counselor)
    assert LIST not in client.get("/admin/").text


def test_newest_assignments_come_first_without_a_join_for_the_order(client, org, course):
    """The default order is the assignment time, newest first, read off its index: the query
    that chooses the page joins neither the course nor the person (at 50,000 enrolments a sort
    by course title and name read them all)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other_course = make_course(lessons=1)
    older = Enrollment.objects.create(person=org.person, course=other_course)
    newer = Enrollment.objects.create(person=org.person, course=course)
    login_staff(client, org.administrator)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(LIST).text
    assert html.index(f'"enrollment-{newer.pk}"') < html.index(f'"enrollment-{older.pk}"')
    paged = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "learning_enrollment"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert len(paged) == 1
    assert (
        '"courses_coursepage"' not in paged[0]
        and 'ORDER BY "learning_enrollment"."created_at" DESC' in paged[0]
    )
    by_course = client.get(LIST, {"ordering": "course__title"}).text
    first, second = sorted([(course.title, newer), (other_course.title, older)])
    assert by_course.index(f'"enrollment-{first[1].pk}"') < by_course.index(
        f'"enrollment-{second[1].pk}"'
    )
