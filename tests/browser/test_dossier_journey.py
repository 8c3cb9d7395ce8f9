"""A case officer opens 教育帮扶档案 from the admin menu, reads a released person's file in
Chinese and passes the self-check round; the next round waits for the office."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.services import do_compile_dossier
from participation.models import MonthStatus, PersonMonth
from tests.browser.test_login_journeys import current_code, sign_in
from tests.browser.test_plan_edit_journey import shot
from tests.factories import make_org, make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def compiled(django_db_serialized_rollback, tmp_path, settings):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    org = make_org()
    person = org.person
    person.supervision_end = timezone.localdate() - dt.timedelta(days=1)
    person.supervision_start = person.supervision_end - dt.timedelta(days=364)
    person.save(update_fields=["supervision_start", "supervision_end"])
    PersonMonth.objects.create(
        person=person,
        period=person.supervision_start.replace(day=1),
        office=person.office,
        category=person.category,
        status=MonthStatus.MET,
        computed_at=timezone.now(),
    )
    dossier = do_compile_dossier(person)
    org.officer.set_password("demo-pass-2026")
    org.officer.save(update_fields=["password"])
    return dossier, make_totp_device(org.officer)


def test_the_case_officer_reads_the_file_and_passes_the_self_check(live_server, compiled, browser):
    dossier, device = compiled
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "officer")
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=token]", current_code(device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.get_by_role("button", name="帮扶方案").click()
    page.get_by_role("link", name="教育帮扶档案").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().strip() == "教育帮扶档案"
    shot(page, "journeys-dossiers-list")
    page.locator(f"[data-testid=file-{dossier.pk}] a").click()
    page.wait_for_load_state("networkidle")
    assert "第 1 轮：矫正小组自查" in page.inner_text("[data-testid=state]")
    checklist = page.inner_text("[data-testid=checklist]")
    assert "每月学习记录" in checklist and "不完整" in checklist
    shot(page, "journeys-dossier-detail")

    page.fill("#pass-note", "已自查，缺项已说明")
    page.get_by_role("button", name="本轮通过").click()
    page.wait_for_load_state("networkidle")
    assert "本轮已通过" in page.inner_text("main")
    assert "第 2 轮：司法所所长审核" in page.inner_text("[data-testid=state]")
    assert page.locator("[data-testid=pass-form]").count() == 0  # not twice by one person
    assert Dossier.objects.get(pk=dossier.pk).round == 2
    context.close()
