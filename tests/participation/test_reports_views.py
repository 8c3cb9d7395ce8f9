"""The staff "Reports" page (learning/report_views.py, learning/report_tasks.py): request,
progress, download to the requester only, bad input and failed tasks."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from audit.models import AccessEvent, Action
from participation import report_pdf, report_tasks, reports
from participation.models import ReportFile, ReportStatus
from tests.factories import login_staff
from tests.participation.test_reports import period  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def english(client, settings):
    """English pages (cookie) and English reports (tasks write in the site's language)."""
    client.cookies["django_language"] = "en"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def report_dir(tmp_path, monkeypatch):
    """Report files go to a temporary private directory (the field's storage is resolved at
    import, so the setting alone would not reach it)."""
    root = tmp_path / "private"
    root.mkdir()
    field = ReportFile._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=root, base_url=None))
    return root


def request_monthly(client, office, period, fmt="pdf"):  # noqa: F811
    return client.post(
        reverse("learning_report_monthly"),
        {"office": office.pk, "month": f"{period:%Y-%m}", "format": fmt},
    )


def test_an_officer_requests_an_office_pdf_and_downloads_it(client, org, period, report_dir):  # noqa: F811
    login_staff(client, org.officer)
    page = client.get(reverse("learning_reports"))
    assert page.status_code == 200 and "东司法所" in page.text and "西司法所" not in page.text
    response = request_monthly(client, org.east, period)
    report = ReportFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("learning_report", args=[report.pk])
    assert report.status == ReportStatus.READY  # immediate backend: done in the request
    assert report.requested_by == org.officer
    assert report.params == {"office": org.east.pk, "period": f"{period:%Y-%m}", "format": "pdf"}
    assert list(report_dir.rglob("*.pdf"))

    state = client.get(reverse("learning_report_status", args=[report.pk])).json()
    assert state["ready"] and state["percent"] == 100 and state["error"] == ""
    detail = client.get(reverse("learning_report", args=[report.pk]))
    assert "Download" in detail.text and "东司法所" in detail.text

    download = client.post(reverse("learning_report_download", args=[report.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "no-store" in download["Cache-Control"]
    assert "attachment" in download["Content-Disposition"]
    content = b"".join(download.streaming_content)
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert org.person.case_number in text and "officer" in text
    event = AccessEvent.objects.filter(action=Action.EXPORT).latest("pk")
    assert event.user_id == org.officer.pk and event.object_id == str(report.pk)


def test_an_administrator_gets_the_bureau_excel_file(client, org, period):  # noqa: F811
    login_staff(client, org.administrator)
    request_monthly(client, org.bureau, period, "xlsx")
    report = ReportFile.objects.get()
    assert report.status == ReportStatus.READY and report.filename.endswith(".xlsx")
    download = client.post(reverse("learning_report_download", args=[report.pk]))
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert book.sheetnames == ["Summary", "Video roll-calls", "东司法所", "西司法所"]


def test_an_administrator_gets_a_pdf_per_office_in_a_zip(client, org, period):  # noqa: F811
    login_staff(client, org.administrator)
    request_monthly(client, org.bureau, period, "zip")
    report = ReportFile.objects.get()
    assert report.status == ReportStatus.READY and report.filename.endswith(".zip")
    download = client.post(reverse("learning_report_download", args=[report.pk]))
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == sorted(
        f"{office.code}-{period:%Y-%m}.pdf" for office in (org.east, org.west)
    )
    west = PdfReader(io.BytesIO(archive.read(f"{org.west.code}-{period:%Y-%m}.pdf")))
    text = west.pages[0].extract_text()
    assert len(west.pages) == 1 and "西司法所" in text and "page 1 / 1" in text
    assert org.other_person.case_number in text and org.person.case_number not in text


@pytest.mark.parametrize("role", ["other_officer", "administrator", "counselor", "lecturer"])
def test_nobody_else_sees_or_downloads_a_report(client, org, period, role):  # noqa: F811
    login_staff(client, org.officer)
    request_monthly(client, org.east, period)
    report = ReportFile.objects.get()
    login_staff(client, getattr(org, role))
    for name in ("learning_report", "learning_report_status"):
        response = client.get(reverse(name, args=[report.pk]))
        assert response.status_code in (302, 404)
        assert org.person.case_number not in response.text
    response = client.post(reverse("learning_report_download", args=[report.pk]))
    assert response.status_code in (302, 404)
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_office_out_of_scope_is_refused_logged_and_nothing_stored(client, org, period):  # noqa: F811
    login_staff(client, org.officer)
    response = request_monthly(client, org.west, period)
    assert response.status_code == 400
    assert "You can only request reports for your own offices." in response.text
    assert not ReportFile.objects.exists()
    assert AccessEvent.objects.filter(action=Action.DENIED, user_id=org.officer.pk).exists()


@pytest.mark.parametrize(
    ("month", "fmt", "message"),
    [
        ("2999-01", "pdf", "There are no figures yet for a month that has not begun."),
        ("2026-13", "pdf", "Enter a month such as 2026-10."),
        ("soon", "pdf", "Enter a month such as 2026-10."),
        (None, "docx", "Choose PDF or Excel."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(client, org, period, month, fmt, message):  # noqa: F811
    login_staff(client, org.officer)
    response = client.post(
        reverse("learning_report_monthly"),
        {"office": org.east.pk, "month": month or f"{period:%Y-%m}", "format": fmt},
    )
    assert response.status_code == 400
    assert message in response.text
    assert not ReportFile.objects.exists()


def test_progress_is_shown_while_the_task_waits_and_runs(client, org, period, settings):  # noqa: F811
    settings.TASKS = DUMMY
    login_staff(client, org.administrator)
    request_monthly(client, org.bureau, period, "xlsx")
    report = ReportFile.objects.get()
    state = client.get(reverse("learning_report_status", args=[report.pk])).json()
    assert state["status"] == "queued" and not state["ready"] and state["percent"] == 0
    page = client.get(reverse("learning_report", args=[report.pk]))
    assert "report_progress.js" in page.text and 'data-testid="download-form" hidden' in page.text
    assert client.post(reverse("learning_report_download", args=[report.pk])).status_code == 404

    seen = []
    original = report_tasks._Progress.__call__

    def spy(self, done, total, force=False):
        seen.append((done, total))
        original(self, done, total, force=True)

    report_tasks._Progress.__call__ = spy
    try:
        assert report_tasks.prepare_report.call(report.pk) == ReportStatus.READY
    finally:
        report_tasks._Progress.__call__ = original
    assert seen[-1] == (3, 3)  # the summary, then each office's row
    state = client.get(reverse("learning_report_status", args=[report.pk])).json()
    assert state["ready"] and state["percent"] == 100
    # Running it again changes nothing.
    assert report_tasks.prepare_report.call(report.pk) == ReportStatus.READY


def test_a_failing_report_ends_as_failed_with_a_readable_error(
    client,
    org,
    period,  # noqa: F811
    monkeypatch,
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_pdf, "monthly_pdf", broken)
    login_staff(client, org.officer)
    response = request_monthly(client, org.east, period)
    assert response.status_code == 302
    report = ReportFile.objects.get()
    assert report.status == ReportStatus.FAILED and not report.file
    assert "could not be prepared" in report.error and "disk full" not in report.error
    page = client.get(reverse("learning_report", args=[report.pk]))
    assert page.status_code == 200 and "could not be prepared" in page.text


def test_a_report_whose_office_left_the_scope_fails_when_it_runs(client, org, period, settings):  # noqa: F811
    settings.TASKS = DUMMY
    login_staff(client, org.officer)
    request_monthly(client, org.east, period)
    report = ReportFile.objects.get()
    org.officer.office = org.west
    org.officer.save(update_fields=["office"])
    assert report_tasks.prepare_report.call(report.pk) == ReportStatus.FAILED
    report.refresh_from_db()
    assert report.error == "You can only request reports for your own offices."


def test_an_officer_requests_a_persons_history(client, org, period):  # noqa: F811
    login_staff(client, org.officer)
    response = client.post(
        reverse("learning_report_history"), {"case_number": org.person.case_number}
    )
    report = ReportFile.objects.get()
    assert response.status_code == 302 and report.status == ReportStatus.READY
    assert report.kind == reports.HISTORY and report.params == {"person": org.person.pk}
    download = client.post(reverse("learning_report_download", args=[report.pk]))
    text = PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages[0].extract_text()
    assert org.person.case_number in text
    # Someone outside the officer's persons: refused, nothing stored.
    response = client.post(
        reverse("learning_report_history"), {"case_number": org.other_person.case_number}
    )
    assert response.status_code == 400 and ReportFile.objects.count() == 1


@pytest.mark.parametrize("role", ["counselor", "lecturer", "editor"])
def test_staff_without_office_figures_are_refused_and_logged(client, org, period, role):  # noqa: F811
    user = getattr(org, role)
    login_staff(client, user)
    assert client.get(reverse("learning_reports"))["Location"] == "/admin/"
    response = request_monthly(client, org.east, period)
    assert response.status_code == 302 and not ReportFile.objects.exists()
    assert AccessEvent.objects.filter(action=Action.DENIED, user_id=user.pk).exists()


@pytest.mark.parametrize("role", ["learner", "outsider"])
def test_non_staff_are_sent_to_sign_in(client, org, period, role):  # noqa: F811
    login_staff(client, getattr(org, role))
    response = client.get(reverse("learning_reports"))
    assert response["Location"].startswith("/admin/login/")


def test_the_menu_shows_reports_to_officers_only(client, org):
    login_staff(client, org.officer)
    assert reverse("learning_reports") in client.get("/admin/").text
    login_staff(client, org.counselor)
    assert reverse("learning_reports") not in client.get("/admin/").text


def test_the_month_field_starts_on_last_month(client, org):
    from_today = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    login_staff(client, org.officer)
    text = client.get(reverse("learning_reports")).content.decode()
    assert f'value="{from_today:%Y-%m}"' in text
