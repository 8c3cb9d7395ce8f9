"""An administrator opens 定时任务 from the admin menu, reads each job in Chinese and runs one."""

from __future__ import annotations

import pytest

from ops.schedule import JOBS
from tests.browser.test_login_journeys import current_code, sign_in
from tests.browser.test_plan_edit_journey import shot
from tests.factories import make_org, make_totp_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def administrator_device(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    administrator = make_org().administrator
    administrator.set_password("demo-pass-2026")
    administrator.save(update_fields=["password"])
    return make_totp_device(administrator)


def test_administrator_sees_the_jobs_and_runs_one_now(live_server, administrator_device, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "administrator")
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=token]", current_code(administrator_device))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.get_by_role("button", name="系统").click()
    shot(page, "journeys-admin-menu-system")
    page.get_by_role("link", name="定时任务", exact=True).click()  # the home links there too
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().strip() == "定时任务"
    assert page.locator("[data-testid=jobs] tbody tr").count() == len(JOBS)
    assert "定时任务没有在运行" in page.inner_text("[data-testid=jobs-warning]")
    row = page.locator("[data-testid=job-refresh_rollups]")
    assert "每 5 分钟" in row.inner_text() and "从未运行" in row.inner_text()

    row.get_by_role("button", name="立即运行").click()
    page.wait_for_load_state("networkidle")
    assert "已运行" in page.inner_text("main")
    row = page.locator("[data-testid=job-refresh_rollups]")
    assert row.locator("[data-testid=status]").inner_text() == "成功"
    assert "计算的人月数：" in row.inner_text()
    context.close()
