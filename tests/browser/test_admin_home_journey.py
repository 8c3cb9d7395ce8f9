"""The admin home at desktop size, in Chinese, as a to-do list: the officer sees today's
tasks and this week's lecture and goes from a task to the person; the counselor sees the open
critical answer first, then the results to review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from participation.models import AbsenceRequest, FollowUp, FollowUpStage
from tests.assessments.helpers import submitted
from tests.browser.test_plan_edit_journey import shot, sign_in
from tests.factories import make_org, make_totp_device
from tests.live.helpers import make_lecture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHQ9_CRITICAL = [2, 1, 1, 1, 1, 1, 1, 2, 1]
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]


@pytest.fixture
def busy(django_db_serialized_rollback):
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    org = make_org()
    today = timezone.localdate()
    FollowUp.objects.create(
        person=org.person,
        period=today.replace(day=1),
        requirement_key=f"quota:{today:%Y-%m}",
        requirement="本月学习 2.5 小时",
        stage=FollowUpStage.OFFICER,
        opened_at=timezone.now(),
        officer=org.officer,
        officer_due=today + dt.timedelta(days=2),
    )
    AbsenceRequest.objects.create(
        person=org.person,
        period=today.replace(day=1),
        requirement_key=f"quota:{today:%Y-%m}",
        requirement="本月学习",
        reason="住院",
        filed_at=timezone.now(),
        filed_by=org.learner,
    )
    make_lecture(org, start=timezone.now() + dt.timedelta(days=1), title="《社区矫正法》讲座")
    submitted(org.person, PHQ9_CRITICAL, by=org.counselor)
    submitted(org.person, PHQ9_MILD, by=org.counselor, slug="phq9")
    return org, make_totp_device(org.officer), make_totp_device(org.counselor)


def test_the_officer_and_the_counselor_find_their_to_do_lists_on_the_admin_home(
    live_server, busy, browser
):
    org, officer_device, counselor_device = busy
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, live_server.url, "officer", officer_device, "/admin/")

    assert "你好" in page.inner_text("h1")
    headings = page.locator("main section.panel h2").all_inner_texts()
    assert headings[:2] == ["今天要做的事", "本月还没达到100%的人"]
    assert "本周讲座" in headings and "最近讲座的缺勤情况" in headings
    assert not {"待审阅的问卷结果", "本月参与情况", "等您审核的课程页面"} & set(headings)
    tasks = page.inner_text("[data-testid=home-officer-follow-ups]")
    assert "张三" in tasks and "本月学习 2.5 小时" in tasks
    assert "张三" in page.inner_text("[data-testid=home-officer-absences]")
    assert "《社区矫正法》讲座" in page.inner_text("[data-testid=home-week-lectures]")
    assert page.locator("input[name=q]").count() == 0  # no "search all pages" box
    shot(page, "admin-home-officer")
    page.locator("[data-testid=home-officer-follow-ups] li a").first.click()
    page.wait_for_load_state("networkidle")
    assert f"/admin/people/{org.person.pk}/" in page.url
    assert "张三" in page.inner_text("main")
    desk.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, live_server.url, "counselor", counselor_device, "/admin/")
    headings = page.locator("main section.panel h2").all_inner_texts()
    assert headings == [
        "等您处理的危机回答",
        "待审阅的问卷结果",
        "您本周的心理咨询预约",
        "到期要评估的帮扶方案",
    ]
    assert "小时" in page.inner_text("[data-testid=home-alert-left]")
    queue = page.inner_text("[data-testid=home-review-list]")
    assert queue.count("张三") == 2 and "有危机回答" in queue
    assert "未来七天没有预约" in page.inner_text("[data-testid=home-appointments]")
    shot(page, "admin-home-counselor")
    page.click("[data-testid=home-alert-open]")
    page.wait_for_load_state("networkidle")
    assert "危机条目" in page.inner_text("[data-testid=alert]")
    desk.close()
