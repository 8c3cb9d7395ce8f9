"""Attendance reports: a lecture's table (CSV, Excel, PDF) and a person's lecture history."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AccessEvent, Action
from live import audience, services
from live.models import CentreCheckIn, CheckInMethod, LectureMode, Makeup, MakeupKind
from tests.factories import login_staff, make_person
from tests.live.helpers import attend, make_lecture, past_lecture, pid, store
from tests.pdfs import official_pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def lecture(org):
    """An ended 60-minute lecture for east and west: learner online 60 min, a centre
    visitor, an absent person with a completed makeup, and other_learner (west) absent."""
    lecture = past_lecture(org, minutes=60, mode=LectureMode.BOTH, offices=(org.east, org.west))
    s = lecture.start
    store(attend(lecture, pid(lecture, org.person), s, s + 60 * MIN))
    visitor = make_person(org.east)
    visitor.full_name = "=HYPERLINK(1)"
    visitor.save(update_fields=["full_name"])
    lecture.audience.create(person=visitor, participant_id="p-visitor")
    CentreCheckIn.objects.create(
        lecture=lecture, person=visitor, method=CheckInMethod.QR, checked_in_at=s
    )
    services.do_recompute_attendance(lecture)
    Makeup.objects.filter(lecture=lecture, person=org.other_person).update(
        completed_at=timezone.now(), completed_how=MakeupKind.RECORDING
    )
    return lecture


def _export(client, lecture, fmt):
    return client.post(f"/admin/live/lectures/{lecture.pk}/attendance/export/", {"format": fmt})


def _csv_rows(response) -> list[list[str]]:
    content = response.content
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_officer_downloads_the_csv_with_case_numbers(client, org, lecture):
    login_staff(client, org.officer)
    response = _export(client, lecture, "csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="attendance-lecture')
    assert "no-store" in response["Cache-Control"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "Name",
        "Case number",
        "Office",
        "Status",
        "Minutes present",
        "How",
        "Reason for change",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"张三", "'=HYPERLINK(1)"}  # the east office only; no formula
    assert by_name["张三"][1] == org.person.case_number
    assert by_name["张三"][3:6] == ["Present", "60", "online"]
    assert by_name["'=HYPERLINK(1)"][3:6] == ["Present", "60", "at the centre"]
    event = AccessEvent.objects.get(action=Action.EXPORT)
    assert event.object_id == str(lecture.pk) and event.detail == "attendance csv, 2 rows"


def test_the_lecturer_sees_names_offices_statuses_and_minutes_only(client, org, lecture):
    login_staff(client, org.lecturer)
    rows = _csv_rows(_export(client, lecture, "csv"))
    assert rows[0] == ["Name", "Office", "Status", "Minutes present"]
    by_name = {row[0]: row for row in rows[1:]}
    # names as the live roster shows them (people.names.mask_name_for_peers)
    assert set(by_name) == {"张*", "'=***", "李*"}
    assert by_name["李*"][1:] == ["西司法所", "Absent", "0"]
    assert org.person.case_number not in _export(client, lecture, "csv").content.decode()


def _hospital(org, lecture):
    row = lecture.attendance.get(person=org.person)
    services.do_override_attendance(
        row, status="excused", reason="住院，已提供病假条", by=org.officer
    )


def test_an_override_reason_is_in_the_officers_table(client, org, lecture):
    _hospital(org, lecture)
    login_staff(client, org.officer)
    by_name = {row[0]: row for row in _csv_rows(_export(client, lecture, "csv"))[1:]}
    assert by_name["张三"][3] == "Excused"
    assert by_name["张三"][-1] == "住院，已提供病假条"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_lecturer_never_sees_an_officers_override_reason(client, org, lecture, fmt):
    """Health information ("in hospital, sick note seen") is not the lecturer's to see: not
    in any download of their own lecture's attendance, nor on its page."""
    _hospital(org, lecture)
    login_staff(client, org.lecturer)
    response = _export(client, lecture, fmt)
    assert response.status_code == 200
    if fmt == "csv":
        rows = _csv_rows(response)
        assert all(len(row) == 4 for row in rows)
        assert {row[0]: row for row in rows[1:]}["张*"][2] == "Excused"
        assert "住院" not in response.content.decode()
    elif fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = [str(cell.value) for row in sheet.iter_rows() for cell in row]
        assert not any("住院" in cell for cell in cells)
        assert sheet.max_column == 4
    else:
        from pypdf import PdfReader

        text = "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        )
        assert "张*" in text and "住院" not in text

    page = client.get(f"/admin/live/lectures/{lecture.pk}/attendance/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张*" in html and "张三" not in html and "Excused" in html
    assert "住院" not in html
    assert org.officer.get_full_name() not in html  # who changed it is not shown either


def test_the_excel_download_keeps_text_as_text(client, org, lecture):
    login_staff(client, org.administrator)
    response = _export(client, lecture, "xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Name" and len(values) == 4  # the bureau sees both offices
    names = {row[0] for row in values[1:]}
    assert "'=HYPERLINK(1)" in names
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"


def test_the_pdf_download(client, org, lecture):
    login_staff(client, org.officer)
    response = _export(client, lecture, "pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = official_pdf_text(response.content, chinese=False)  # every font embedded
    assert f"Attendance: {lecture.title}" in text
    assert AccessEvent.objects.get(action=Action.EXPORT).detail == "attendance pdf, 2 rows"


def test_a_bad_format_is_refused(client, org, lecture):
    login_staff(client, org.officer)
    for data in ({}, {"format": "docx"}):
        response = client.post(f"/admin/live/lectures/{lecture.pk}/attendance/export/", data)
        assert response.status_code == 400
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("lecturer", 200),
        ("officer", 200),
        ("administrator", 200),
        ("other_officer", 200),  # sees the west person of this lecture
        ("counselor", 302),  # no live.view_attendance: refused (Wagtail redirects)
        ("editor", 302),
    ],
)
def test_lecture_export_per_role(client, org, lecture, role, status):
    login_staff(client, getattr(org, role))
    assert _export(client, lecture, "csv").status_code == status


def test_a_learner_cannot_export(client, org, lecture):
    client.force_login(org.learner)
    response = _export(client, lecture, "csv")
    assert response.status_code == 302 and "login" in response["Location"]


def test_another_offices_officer_does_not_see_an_east_only_lecture(client, org):
    lecture = past_lecture(org, minutes=60)
    login_staff(client, org.other_officer)
    assert _export(client, lecture, "csv").status_code == 404


def test_the_lecture_export_takes_a_fixed_number_of_queries(
    client, org, lecture, django_assert_max_num_queries
):
    login_staff(client, org.lecturer)
    _export(client, lecture, "csv")
    with django_assert_max_num_queries(25) as few:
        _export(client, lecture, "csv")
    for _ in range(10):
        person = make_person(org.east)
        lecture.audience.create(person=person, participant_id=f"p-{person.pk}")
    services.do_recompute_attendance(lecture)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = _csv_rows(_export(client, lecture, "csv"))
    assert len(rows) == 1 + 13


# --- A person's history ----------------------------------------------------------------------


def _history(client, person, fmt=None):
    url = f"/admin/live/persons/{person.pk}/lectures/"
    return client.post(url + "export/", {"format": fmt}) if fmt else client.get(url)


def test_the_officer_reads_a_persons_history(client, org, lecture):
    upcoming = make_lecture(org)
    audience.do_resolve_audience(upcoming)  # only a fixed audience counts
    missed = past_lecture(org, hours_ago=30, minutes=60)
    services.do_recompute_attendance(missed)
    login_staff(client, org.officer)
    response = _history(client, org.person)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="history-row"') == 3
    assert lecture.title in html and missed.title in html
    assert "Open, due" in html  # the missed lecture's makeup
    assert AccessEvent.objects.filter(
        action=Action.VIEW, object_type="people.person", person_id=org.person.pk
    ).exists()

    rows = _csv_rows(_history(client, org.person, "csv"))
    assert rows[0] == ["Date", "Lecture", "Status", "Minutes present", "Makeup"]
    by_title = {row[1]: row for row in rows[1:]}
    assert by_title[lecture.title][2:] == ["Present", "60", "—"]
    assert by_title[missed.title][2] == "Absent"
    assert by_title[missed.title][4].startswith("Open, due ")
    assert by_title[upcoming.title][2:4] == ["Upcoming", ""]
    export = AccessEvent.objects.get(action=Action.EXPORT)
    assert export.person_id == org.person.pk and export.detail == "lecture history csv, 3 rows"


def test_the_history_shows_a_completed_makeup(client, org, lecture):
    login_staff(client, org.other_officer)
    rows = _csv_rows(_history(client, org.other_person, "csv"))
    assert rows[1][2] == "Absent"
    assert rows[1][4].startswith("Done on ") and "watched the recording" in rows[1][4]


def test_the_history_pdf(client, org, lecture):
    login_staff(client, org.counselor)
    response = _history(client, org.person, "pdf")
    assert response.status_code == 200
    assert org.person.full_name in official_pdf_text(response.content, chinese=False)
    assert _history(client, org.person, "xlsx").status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("officer", 200),
        ("counselor", 200),
        ("administrator", 200),
        ("other_officer", 404),
        ("other_counselor", 404),
        ("lecturer", 302),  # no people.view_person: refused
        ("editor", 302),
    ],
)
def test_history_per_role(client, org, lecture, role, status):
    login_staff(client, getattr(org, role))
    assert _history(client, org.person).status_code == status
    assert _history(client, org.person, "csv").status_code == status
    if status == 404:
        assert AccessEvent.objects.filter(action=Action.DENIED, person_id=org.person.pk).exists()


def test_the_history_takes_a_fixed_number_of_queries(
    client, org, lecture, django_assert_max_num_queries
):
    login_staff(client, org.officer)
    _history(client, org.person)
    with django_assert_max_num_queries(30) as few:
        _history(client, org.person)
    for hours in range(10, 20):
        services.do_recompute_attendance(past_lecture(org, hours_ago=hours, minutes=30))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _history(client, org.person)
    assert response.content.decode().count('data-testid="history-row"') == 11
