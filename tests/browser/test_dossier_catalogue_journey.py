"""In Chinese, at desktop size: an administrator changes the file catalogue with its forms
(a section's setting, a section moved up, an earlier version made current again); a case
officer opens an archived file whose absences carry a photo and exports it as one zip."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from dossiers.models import Catalogue
from dossiers.services import do_compile_dossier, do_pass
from participation.models import AbsenceRequest, AbsenceStatus, MonthStatus, PersonMonth
from people.roles import Role
from tests.browser.test_plan_edit_journey import shot, sign_in
from tests.factories import make_org, make_totp_device, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def archived(django_db_serialized_rollback, tmp_path, settings):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    from lib.storage import private_storage

    field = AbsenceRequest._meta.get_field("evidence")
    kept, field.storage = field.storage, private_storage()
    org = make_org()
    person = org.person
    person.supervision_end = timezone.localdate() - dt.timedelta(days=1)
    person.supervision_start = person.supervision_end - dt.timedelta(days=364)
    person.save(update_fields=["supervision_start", "supervision_end"])
    period = person.supervision_start.replace(day=1)
    PersonMonth.objects.create(
        person=person,
        period=period,
        office=person.office,
        category=person.category,
        status=MonthStatus.MET,
        computed_at=timezone.now(),
    )
    absence = AbsenceRequest.objects.create(
        person=person,
        period=period,
        requirement_key="lecture:1",
        requirement="法治讲座",
        reason="住院",
        filed_at=timezone.now(),
        status=AbsenceStatus.APPROVED,
    )
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (240, 240, 230)).save(photo, "JPEG")
    absence.evidence.save("note.jpg", ContentFile(photo.getvalue()), save=False)
    absence.evidence_type = "image/jpeg"
    absence.save(update_fields=["evidence", "evidence_type"])
    dossier = do_compile_dossier(person)
    for user in (
        org.officer,
        make_user("east_head", Role.OFFICER, office=org.east),
        org.administrator,
        make_user("bureau_chief", Role.ADMINISTRATOR, office=org.bureau),
    ):
        dossier = do_pass(dossier, user)
    yield dossier, make_totp_device(org.officer), make_totp_device(org.administrator)
    field.storage = kept


def test_an_administrator_edits_the_catalogue_and_an_officer_exports_the_archive(
    live_server, archived, browser
):
    dossier, officer_device, admin_device = archived
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "administrator", admin_device, "/admin/")
    page.get_by_role("button", name="帮扶方案").click()
    page.get_by_role("link", name="档案目录清单").click()
    page.wait_for_load_state("networkidle")
    sections = page.inner_text("[data-testid=sections]")
    assert "入矫后 30 天内" in sections and "本人的专管员" in page.inner_text(
        "[data-testid=rounds]"
    )
    shot(page, "journeys-dossier-catalogue")

    page.locator("[data-testid=section-plan]").get_by_role("link", name="编辑").click()
    page.wait_for_load_state("networkidle")
    # Only the setting the chosen rule reads is shown.
    assert page.locator("[data-param=days]").is_visible()
    assert not page.locator("[data-param=reasons]").is_visible()
    page.select_option("select[name=rule]", "questionnaires_reviewed")
    assert page.locator("[data-param=reasons]").is_visible()
    page.select_option("select[name=rule]", "plan_approved")
    page.fill("input[name=days]", "45")
    page.fill("input[name=note]", "审批期限改为45日")
    shot(page, "journeys-dossier-catalogue-section")
    page.get_by_role("button", name="检查并保存").click()
    page.wait_for_load_state("networkidle")
    assert "已保存为第 2 版" in page.inner_text("main")
    assert "入矫后 45 天内" in page.inner_text("[data-testid=sections]")

    # Moving needs a note; then the absences section moves up one place.
    page.fill("#id_note", "请假材料提前")
    page.locator("[data-testid=section-absences]").get_by_role("button", name="上移").click()
    page.wait_for_load_state("networkidle")
    assert "已保存为第 3 版" in page.inner_text("main")
    rows = page.locator("[data-testid=sections] tbody tr").all_inner_texts()
    assert "请假及证明材料" in rows[-2]

    # Version 1 made current again, as version 4.
    restore = page.locator("[data-testid=restore-1]")
    restore.locator("input[name=note]").fill("恢复原清单")
    restore.get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    assert "保存为第 4 版" in page.inner_text("main")
    assert "入矫后 30 天内" in page.inner_text("[data-testid=sections]")
    shot(page, "journeys-dossier-catalogue-restored")
    assert Catalogue.objects.current().version == 4
    desk.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "officer", officer_device, f"/admin/files/{dossier.pk}/")
    assert "已归档" in page.inner_text("[data-testid=state]")
    shot(page, "journeys-dossier-archived")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出归档档案（压缩包）").click()
    data = open(download.value.path(), "rb").read()  # noqa: PTH123, SIM115
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        assert {"officer.pdf", "SHA256SUMS.txt", "history.csv"} <= set(zipped.namelist())
        assert zipped.read("officer.pdf").startswith(b"%PDF")
    desk.close()
