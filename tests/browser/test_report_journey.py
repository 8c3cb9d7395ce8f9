from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from people.models import Office, User
from tests.browser.test_login_journeys import current_code, sign_in
from tests.factories import make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def officer_device(django_db_serialized_rollback, tmp_path, settings):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    from django.core.files.storage import FileSystemStorage

    from participation import rollups
    from participation.models import ReportFile

    call_command("seed_demo")
    rollups.refresh_month(last_month())
    field = ReportFile._meta.get_field("file")
    original = field.storage
    field.storage = FileSystemStorage(location=tmp_path, base_url=None)
    yield make_totp_device(User.objects.get(username="officer1"))
    field.storage = original


def test_officer_requests_an_office_report_and_downloads_the_pdf(
    live_server, officer_device, browser
):
    office = User.objects.get(username="officer1").office
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, live_server.url, "officer1")
    page.goto(f"{live_server.url}/admin/participation-reports/")
    page.fill("input[name=token]", current_code(officer_device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/participation-reports/")
    assert page.locator("a[href='/admin/participation-reports/']").count() >= 1  # the menu

    options = page.locator("select[name=office] option").all_inner_texts()
    assert office.name in options
    assert not any(o.name in options for o in Office.objects.exclude(path__startswith=office.path))
    page.select_option("select[name=office]", str(office.pk))
    page.fill("input[name=month]", f"{last_month():%Y-%m}")
    page.select_option("select[name=format]", "pdf")
    page.click("[data-testid=request-monthly]")
    page.wait_for_selector("[data-testid=download]", state="visible", timeout=30_000)
    assert page.locator("[data-testid=report-error]").is_hidden()

    with page.expect_download() as info:
        page.click("[data-testid=download]")
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        content = handle.read()
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert office.name in text
    assert "第 1 页" in text or "page 1 /" in text
    context.close()
