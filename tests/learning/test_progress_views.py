"""Staff study-progress pages and exports in the Wagtail admin (learning/admin_views.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from audit.models import AccessEvent, Action
from learning.models import Enrollment, LessonProgress
from participation.models import ParticipationRecord
from tests.factories import login_staff, make_person
from tests.learning.builders import lessons_of, make_course

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    """Assert on the English msgids: the Chinese catalogue is compiled separately."""
    client.cookies["django_language"] = "en"


ALLOWED = ["administrator", "officer", "other_officer", "counselor", "other_counselor"]


@pytest.fixture
def course(org):
    course = make_course(lessons=2, quiz=False, expected=600)
    today = timezone.localdate()
    Enrollment.objects.create(
        person=org.person, course=course, due_date=today - dt.timedelta(days=1)
    )
    Enrollment.objects.create(
        person=org.other_person, course=course, due_date=today + dt.timedelta(days=20)
    )
    first, _second = lessons_of(course)
    LessonProgress.objects.create(
        person=org.person, lesson=first, credited_seconds=725, completed_at=timezone.now()
    )
    ParticipationRecord.objects.create(
        person=org.person,
        period=today.replace(day=1),
        source="lesson",
        requirement_key=f"lesson:{first.pk}",
        minutes=12,
    )
    return course


def course_url(course, name="learning_progress_course"):
    return reverse(name, args=[course.pk])


def office_url(office, name="learning_progress_office"):
    return reverse(name, args=[office.pk])


def table(response) -> list[list[str]]:
    """The cells of the report table, as text, one list per row."""
    soup = BeautifulSoup(response.content, "html.parser")
    rows = soup.select("[data-testid=progress-table] tr[data-testid=progress-row]")
    return [[" ".join(td.get_text().split()) for td in tr.find_all("td")] for tr in rows]


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(response.content))
    return list(workbook.active.iter_rows(values_only=True))


# --- Who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ALLOWED)
def test_staff_who_see_persons_open_the_progress_pages(client, org, course, role):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("learning_progress"))
    assert response.status_code == 200
    assert course.title in response.text
    assert client.get(course_url(course)).status_code == 200


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("administrator", {"张三", "李四"}),
        ("officer", {"张三"}),
        ("other_officer", {"李四"}),
        ("counselor", {"张三"}),
        ("other_counselor", {"李四"}),
    ],
)
def test_course_table_shows_only_persons_in_scope(client, org, course, role, sees):
    login_staff(client, getattr(org, role))
    names = {row[1] for row in table(client.get(course_url(course)))}
    assert names == sees


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("administrator", 200),
        ("officer", 200),
        ("counselor", 200),
        ("other_officer", 404),
        ("other_counselor", 404),
    ],
)
def test_office_page_is_404_outside_the_users_offices(client, org, course, role, status):
    login_staff(client, getattr(org, role))
    assert client.get(office_url(org.east)).status_code == status
    assert client.get(reverse("learning_progress_office", args=[987654])).status_code == 404


def test_counselor_sees_only_the_caseload_in_an_office(client, org, course):
    make_person(org.east, case_officer=org.officer)
    login_staff(client, org.counselor)
    assert [row[1] for row in table(client.get(office_url(org.east)))] == ["张三"]
    login_staff(client, org.officer)
    assert len(table(client.get(office_url(org.east)))) == 2


@pytest.mark.parametrize("role", ["lecturer", "editor"])
@pytest.mark.parametrize(
    "name", ["learning_progress", "learning_progress_course", "learning_progress_office"]
)
def test_content_authors_are_refused_and_the_refusal_logged(client, org, course, name, role):
    """Lecturers and editors author content; they see no person's progress."""
    user = getattr(org, role)
    login_staff(client, user)
    args = {"learning_progress": [], "learning_progress_course": [course.pk]}.get(
        name, [org.east.pk]
    )
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert "张三" not in response.text
    assert AccessEvent.objects.filter(action=Action.DENIED, user_id=user.pk, success=False).exists()


def test_lecturer_cannot_export(client, org, course):
    login_staff(client, org.lecturer)
    response = client.post(course_url(course, "learning_progress_course_export"), {"format": "csv"})
    assert response.status_code == 302
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role", ["learner", "other_learner", "outsider"])
def test_non_staff_are_sent_to_sign_in(client, org, course, role):
    login_staff(client, getattr(org, role))
    for url in (reverse("learning_progress"), course_url(course), office_url(org.east)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    response = client.post(course_url(course, "learning_progress_course_export"), {"format": "csv"})
    assert response.status_code == 302
    assert "张三" not in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, org, course):
    response = client.get(course_url(course))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_menu_item_is_shown_to_officers_not_lecturers(client, org):
    login_staff(client, org.officer)
    assert reverse("learning_progress") in client.get("/admin/").text
    login_staff(client, org.lecturer)
    assert reverse("learning_progress") not in client.get("/admin/").text


def test_missing_course_is_404(client, org):
    login_staff(client, org.officer)
    assert client.get(reverse("learning_progress_course", args=[987654])).status_code == 404
    export = reverse("learning_progress_course_export", args=[987654])
    assert client.post(export, {"format": "csv"}).status_code == 404


# --- The tables -----------------------------------------------------------------------------


def test_course_table_shows_progress_time_due_date_and_status(client, org, course):
    login_staff(client, org.administrator)
    rows = table(client.get(course_url(course)))
    today = timezone.localdate()
    assert rows[0] == [
        org.person.case_number,
        "张三",
        "东司法所",
        "Normal (普管)",
        "1 / 2",
        "0:12",
        f"{today - dt.timedelta(days=1):%Y-%m-%d}",
        "Overdue",
        "",
    ]
    assert rows[1][1] == "李四"
    assert rows[1][7] == "On track"


def test_office_table_shows_month_hours_against_quota(client, org, course):
    login_staff(client, org.officer)
    (row,) = table(client.get(office_url(org.east)))
    person = [org.person.case_number, "张三", "东司法所", "Normal (普管)"]
    assert row == [*person, "0.2", "8.0", "2", "1", "0", "0", "1"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"status": "overdue"}, ["张三"]),
        ({"status": "on_track"}, ["李四"]),
        ({"category": "strict"}, []),
        ({"category": "normal"}, ["张三", "李四"]),
    ],
)
def test_course_filters(client, org, course, query, names):
    login_staff(client, org.administrator)
    assert [row[1] for row in table(client.get(course_url(course), query))] == names


def test_office_page_shows_an_earlier_month(client, org, course):
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    ParticipationRecord.objects.create(
        person=org.person,
        period=last_month,
        source="lecture",
        requirement_key="lecture:1",
        minutes=540,
    )
    login_staff(client, org.officer)
    response = client.get(office_url(org.east), {"month": f"{last_month:%Y-%m}"})
    (row,) = table(response)
    assert row[4:7] == ["9.0", "8.0", "100"]
    assert f"{last_month:%Y-%m}" in response.text
    export = office_url(org.east, "learning_progress_office_export")
    _header, exported = read_csv(
        client.post(export, {"format": "csv", "month": f"{last_month:%Y-%m}"})
    )
    assert exported == row


def test_office_filter_is_limited_to_the_users_offices(client, org, course):
    login_staff(client, org.officer)
    response = client.get(course_url(course), {"office": org.west.pk})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select("[data-testid=filter-error]")  # said, then ignored
    assert [row[1] for row in table(response)] == ["张三"]
    options = {o.get("value") for o in soup.select("select[name=office] option")}
    assert options == {"", str(org.east.pk)}


@pytest.mark.parametrize(
    "query",
    [
        {"office": "abc"},
        {"office": "9" * 30},
        {"office": "-1"},
        {"status": "lost"},
        {"p": "abc"},
        {"p": "9" * 30},
        {"p": "-3"},
    ],
)
def test_bad_course_filters_are_ignored_with_a_message(client, org, course, query):
    login_staff(client, org.administrator)
    response = client.get(course_url(course), query)
    assert response.status_code == 200
    assert [row[1] for row in table(response)] == ["张三", "李四"]
    if "p" not in query:
        assert "(ignored)" in response.text


@pytest.mark.parametrize("month", ["2026-13", "march", "9999-01", "2026-03-01x", "0-1", "1999-01"])
def test_bad_months_are_ignored_with_a_message(client, org, course, month):
    login_staff(client, org.officer)
    response = client.get(office_url(org.east), {"month": month})
    assert response.status_code == 200
    assert "(ignored)" in response.text
    assert len(table(response)) == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["office", "status", "category", "month", "quota", "p", "format"]),
        st.text(max_size=12),
        max_size=5,
    )
)
def test_no_filter_value_causes_a_server_error(client, org, course, params):
    login_staff(client, org.officer)
    # lib.security answers 400 to any NUL in a query string, before the view.
    expected = 400 if any("\x00" in value for value in params.values()) else 200
    for url in (course_url(course), office_url(org.east)):
        assert client.get(url, params).status_code == expected
    for url in (
        course_url(course, "learning_progress_course_export"),
        office_url(org.east, "learning_progress_office_export"),
    ):
        assert client.post(url, params).status_code in (200, 400)


def test_pages_are_paginated(client, org, course):
    for _ in range(55):
        person = make_person(org.east, case_officer=org.officer)
        Enrollment.objects.create(person=person, course=course)
    login_staff(client, org.officer)
    first = client.get(course_url(course))
    assert len(table(first)) == 50
    assert "p=2" in first.text
    second = client.get(course_url(course), {"p": "2"})
    assert len(table(second)) == 6
    assert len(table(client.get(office_url(org.east), {"p": "2"}))) == 6


# --- Query counts ---------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_persons_courses_or_lessons(
    client, org, course, django_assert_max_num_queries
):
    login_staff(client, org.officer)
    urls = [reverse("learning_progress"), course_url(course), office_url(org.east)]
    for url in urls:
        client.get(url)
    before = [_queries(client, url) for url in urls]
    for _ in range(3):
        make_course(lessons=3, quiz=False)
    for _ in range(25):
        person = make_person(org.east, case_officer=org.officer)
        Enrollment.objects.create(person=person, course=course)
        for lesson in lessons_of(course):
            LessonProgress.objects.create(person=person, lesson=lesson, credited_seconds=90)
    after = [_queries(client, url) for url in urls]
    assert after == before
    for url in urls:
        with django_assert_max_num_queries(18):
            client.get(url)


def test_export_query_count_is_fixed(client, org, course, django_assert_max_num_queries):
    for _ in range(30):
        person = make_person(org.east, case_officer=org.officer)
        Enrollment.objects.create(person=person, course=course)
    login_staff(client, org.officer)
    for url in (
        course_url(course, "learning_progress_course_export"),
        office_url(org.east, "learning_progress_office_export"),
    ):
        with django_assert_max_num_queries(18):
            response = client.post(url, {"format": "xlsx"})
        assert response.status_code == 200


# --- Exports --------------------------------------------------------------------------------


def test_get_on_an_export_is_refused(client, org, course):
    login_staff(client, org.officer)
    assert client.get(course_url(course, "learning_progress_course_export")).status_code == 405
    assert client.get(office_url(org.east, "learning_progress_office_export")).status_code == 405


def test_course_csv_matches_the_table_and_is_logged(client, org, course):
    login_staff(client, org.administrator)
    shown = table(client.get(course_url(course)))
    response = client.post(course_url(course, "learning_progress_course_export"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:3] == ["Case number", "Name", "Office"]
    assert len(rows) == len(shown)
    for exported, html in zip(rows, shown, strict=True):
        done, total = html[4].split(" / ")
        assert exported == [*html[:4], done, total, *html[5:]]
    event = AccessEvent.objects.get(action=Action.EXPORT)
    assert event.user_id == org.administrator.pk
    assert (event.object_type, event.object_id) == ("courses.coursepage", str(course.pk))
    assert "csv, 2 rows" in event.detail


def test_course_xlsx_matches_the_table(client, org, course):
    login_staff(client, org.officer)
    shown = table(client.get(course_url(course)))
    response = client.post(
        course_url(course, "learning_progress_course_export"), {"format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = read_xlsx(response)
    assert header[6] == "Study time (h:mm)"
    (row,) = rows
    (html,) = shown
    assert list(row[:4]) == html[:4]
    assert f"{row[4]} / {row[5]}" == html[4]
    assert row[6] == dt.timedelta(minutes=12)  # a real duration, summable in Excel
    assert row[7].date().isoformat() == html[6]
    assert row[8] == html[7]
    assert row[9] is None and html[8] == ""
    assert "xlsx, 1 rows" in AccessEvent.objects.get(action=Action.EXPORT).detail


def test_office_exports_match_the_table(client, org, course):
    make_person(org.east, case_officer=org.officer)
    login_staff(client, org.officer)
    shown = table(client.get(office_url(org.east)))
    export = office_url(org.east, "learning_progress_office_export")
    header, *rows = read_csv(client.post(export, {"format": "csv"}))
    assert header[4] == "Study hours in the month"
    page = BeautifulSoup(client.get(office_url(org.east)).content, "html.parser")
    assert [th.get_text() for th in page.select("[data-testid=progress-table] th")] == header
    assert rows == shown
    xheader, *xrows = read_xlsx(client.post(export, {"format": "xlsx"}))
    assert list(xheader) == header
    assert [[str(v) for v in row[:4]] for row in xrows] == [row[:4] for row in shown]
    assert [float(row[4]) for row in xrows] == [float(row[4]) for row in shown]
    event = AccessEvent.objects.filter(action=Action.EXPORT).first()
    assert (event.object_type, event.object_id) == ("people.office", str(org.east.pk))


def test_exports_keep_the_filters_of_the_page(client, org, course):
    login_staff(client, org.administrator)
    page = client.get(course_url(course), {"status": "on_track"})
    soup = BeautifulSoup(page.content, "html.parser")
    hidden = {i["name"]: i["value"] for i in soup.select("[data-testid=progress-export] input")}
    assert hidden["status"] == "on_track"
    hidden.pop("csrfmiddlewaretoken")
    response = client.post(
        course_url(course, "learning_progress_course_export"), {**hidden, "format": "csv"}
    )
    _header, *rows = read_csv(response)
    assert [row[1] for row in rows] == ["李四"]
    assert "status=on_track" in AccessEvent.objects.get(action=Action.EXPORT).detail


def test_exports_stay_in_scope(client, org, course):
    login_staff(client, org.other_officer)
    response = client.post(course_url(course, "learning_progress_course_export"), {"format": "csv"})
    _header, *rows = read_csv(response)
    assert [row[1] for row in rows] == ["李四"]
    export = office_url(org.east, "learning_progress_office_export")
    assert client.post(export, {"format": "csv"}).status_code == 404
    assert not AccessEvent.objects.filter(action=Action.EXPORT, object_type="people.office")


def test_nul_in_a_filter_answers_400(client, org, course):
    login_staff(client, org.officer)
    assert client.get(course_url(course), {"category": "\x00"}).status_code == 400


@pytest.mark.parametrize(
    "data",
    [{}, {"format": "pdf"}, {"format": "csv", "status": "lost"}, {"format": "csv", "office": "x"}],
)
def test_bad_export_requests_answer_400_and_export_nothing(client, org, course, data):
    login_staff(client, org.officer)
    response = client.post(course_url(course, "learning_progress_course_export"), data)
    assert response.status_code == 400
    assert "Nothing was downloaded" in response.text
    assert "张三" not in response.text
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_bad_office_export_month_answers_400(client, org, course):
    login_staff(client, org.officer)
    export = office_url(org.east, "learning_progress_office_export")
    response = client.post(export, {"format": "csv", "month": "2026-13"})
    assert response.status_code == 400
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_exports_never_turn_a_name_into_a_formula(client, org, course):
    org.person.full_name = "=HYPERLINK(1)"
    org.person.save(update_fields=["full_name"])
    login_staff(client, org.officer)
    url = course_url(course, "learning_progress_course_export")
    _header, row = read_csv(client.post(url, {"format": "csv"}))
    assert row[1] == "'=HYPERLINK(1)"
    workbook = load_workbook(io.BytesIO(client.post(url, {"format": "xlsx"}).content))
    cell = workbook.active["B2"]
    # the one formula-safe writer: text, and neutralised like the CSV's
    assert (cell.value, cell.data_type) == ("'=HYPERLINK(1)", "s")
