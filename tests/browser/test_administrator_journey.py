"""An administrator at desktop size, in Chinese: changes a goal in the plan rules with the
form and a change note (the new version is current), opens a person's record, then finds
those views in the access log with its filters; the export is a POST form, never a link."""

from __future__ import annotations

import pytest

from plans.models import PlanRuleSet
from tests.browser.test_plan_edit_journey import shot, sign_in
from tests.factories import make_org, make_totp_device
from tests.plans.helpers import drafted

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def administrator(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    org = make_org()
    drafted(org)  # version 1 drafted a plan: a change makes version 2
    return org.person, make_totp_device(org.administrator)


def test_an_administrator_changes_a_rule_and_finds_the_views_in_the_access_log(
    live_server, administrator, browser
):
    person, device = administrator
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, base, "administrator", device, "/admin/")
    page.get_by_role("button", name="帮扶方案").click()  # the menu by job
    page.get_by_role("link", name="方案规则").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/plans/rules/")
    assert "心理健康" in page.inner_text("[data-testid=rules-cells]")
    before = PlanRuleSet.objects.order_by("-version").first()

    page.click("[data-testid=cell-mental_health-high] a")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=g0_target_zh]", "每两周与咨询师谈一次，情绪稳定")
    page.fill("input[name=note]", "心理目标写得更具体")
    shot(page, "journeys-admin-rule-cell")
    page.click("[data-testid=save-rules]")
    page.wait_for_load_state("networkidle")
    shot(page, "journeys-admin-rules")
    assert page.url.endswith("/admin/plans/rules/"), page.url
    newest = page.inner_text(f"[data-testid=rule-version-{before.version + 1}]")
    assert "心理目标写得更具体" in newest
    assert f"第 {before.version + 1} 版" in newest and "正在使用" in newest
    current = PlanRuleSet.objects.current()
    assert current.version == before.version + 1
    cells = {(r["domain"], r["level"]): r for r in current.rules["rules"]}
    assert cells[("mental_health", "high")]["goals"][0]["target"]["zh-hans"] == (
        "每两周与咨询师谈一次，情绪稳定"
    )

    page.goto(f"{base}/admin/people/{person.pk}/")  # a sensitive record: the view is logged
    assert "张三" in page.inner_text("main")

    page.get_by_role("button", name="系统").click()  # the menu by job: 系统 holds the log
    page.get_by_role("link", name="访问日志").first.click()
    page.wait_for_load_state("networkidle")
    # the person by case number in the search box, the rest in Wagtail's filter menu
    page.fill("form[data-search-form] input[name=q]", person.case_number)
    page.wait_for_url("**q=CASE-**")
    page.locator("#filters-drilldown [data-w-dropdown-target=toggle]").click()
    page.locator("#filters-drilldown .w-drilldown__toggle", has_text="操作").click()
    page.select_option("select[name=action]", "view")
    page.wait_for_load_state("networkidle")
    page.locator("#filters-drilldown .w-drilldown__back:visible").click()
    page.locator("#filters-drilldown .w-drilldown__toggle", has_text="用户").click()
    page.fill("input[name=username]", "administrator")
    page.keyboard.press("Escape")
    page.wait_for_load_state("networkidle")
    page.wait_for_url("**username=administrator**")
    assert "q=" + person.case_number in page.url
    rows = page.locator("[data-testid=access-log] tbody tr")
    assert rows.count() >= 1
    first = rows.first.inner_text()
    assert "administrator" in first and "查看" in first and str(person.pk) in first
    assert "管理员" in first and "矫正对象" in first  # role and record type in Chinese
    assert "people.person" not in first
    shot(page, "journeys-admin-access-log")
    export = page.locator("[data-testid=access-log-export]")
    assert export.get_attribute("method") == "post"
    assert export.locator("input[name=username]").get_attribute("value") == "administrator"
    with page.expect_download() as info:
        export.get_by_role("button", name="导出 CSV").click()
    body = open(info.value.path(), encoding="utf-8-sig").read()
    assert body.startswith("id,at,") and f",{person.pk}," in body
    desk.close()
