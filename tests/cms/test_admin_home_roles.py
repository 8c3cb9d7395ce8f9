"""Each role's admin home, rendered in Chinese: the role's own panels, and none of another
role's. Each app adds its panels in its ``wagtail_hooks.py``; cms removes Wagtail's own."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.utils import timezone, translation
from wagtail import hooks
from wagtail.admin.views.home import HomeView

from assessments.models import Alert
from participation.models import AbsenceRequest, FollowUp, FollowUpStage
from people.roles import Role
from plans.models import CounselingAppointment
from tests.assessments.helpers import submitted
from tests.factories import login_staff, make_person, make_user

PHQ9_CRITICAL = [0, 0, 0, 0, 0, 0, 0, 0, 1]

pytestmark = pytest.mark.django_db

# data-testid of each panel → its heading in Chinese
PANELS = {
    "home-officer-today": "今天要做的事",
    "participation-home-panel": "本月还没达到100%的人",
    "home-week-lectures": "本周讲座",
    "home-recent-gaps": "最近讲座的缺勤情况",
    "home-open-alerts": "等您处理的危机回答",
    "home-review-queue": "待审阅的问卷结果",
    "home-appointments": "您本周的心理咨询预约",
    "home-reviews-due": "到期要评估的帮扶方案",
    "home-next-lectures": "您接下来的讲座",
    "home-own-pages": "您送审中的课程页面",
    "home-pages-to-review": "等您审核的课程页面",
    "home-bureau-month": "本月参与情况",
    "home-escalated-alerts": "无人确认的危机回答",
    "home-overdue-follow-ups": "矫正工作人员逾期未办的跟进",
    "home-jobs": "定时任务",
    "home-access-log": "访问日志校验",
}

BY_ROLE = {
    "officer": [
        "home-officer-today",
        "participation-home-panel",
        "home-week-lectures",
        "home-recent-gaps",
    ],
    "counselor": [
        "home-open-alerts",
        "home-review-queue",
        "home-appointments",
        "home-reviews-due",
    ],
    "lecturer": ["home-next-lectures", "home-own-pages"],
    "editor": ["home-pages-to-review"],
    "administrator": [
        "home-bureau-month",
        "home-escalated-alerts",
        "home-overdue-follow-ups",
        "home-jobs",
        "home-access-log",
    ],
}


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def shown_panels(html: str) -> list[str]:
    return [
        testid
        for testid in re.findall(r'<section class="panel[^"]*" data-testid="([^"]+)"', html)
        if testid in PANELS
    ]


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_each_role_gets_its_own_panels_in_order_and_in_chinese(client, org, chinese, role):
    login_staff(client, getattr(org, role))
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert response.status_code == 200
    assert shown_panels(html) == BY_ROLE[role]
    for testid in BY_ROLE[role]:
        assert PANELS[testid] in html
    assert "你好" in html


def test_the_counselors_critical_alerts_come_first(org):
    request = RequestFactory().get("/admin/")
    request.user = org.counselor
    panels = []
    for hook in hooks.get_hooks("construct_homepage_panels"):
        hook(request, panels)
    assert min(panels, key=lambda panel: panel.order).name == "assessments_open_alerts"


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_wagtails_own_panels_are_gone(org, rf, role):
    request = rf.get("/admin/")
    request.user = getattr(org, role)
    view = HomeView()
    view.request = request
    names = {panel.name for panel in view.get_panels()}
    assert names and not names & {
        "workflow_objects_to_moderate",
        "user_objects_in_workflow_moderation",
        "recent_edits",
        "locked_pages",
    }


def test_a_person_with_two_roles_gets_both_homes(client, org, chinese):
    org.counselor.groups.add(Group.objects.get(name=Role.OFFICER))
    org.counselor.office = org.east
    org.counselor.save(update_fields=["office"])
    login_staff(client, org.counselor)
    shown = shown_panels(client.get("/admin/").content.decode())
    assert shown[0] == "home-open-alerts"
    assert set(shown) == set(BY_ROLE["counselor"]) | set(BY_ROLE["officer"])


def test_a_superuser_without_a_role_gets_the_administrators_home(client, org, chinese):
    root = make_user("root", is_superuser=True, office=org.bureau)
    login_staff(client, root)
    assert shown_panels(client.get("/admin/").content.decode()) == BY_ROLE["administrator"]


def test_a_staff_member_with_no_panel_is_told_what_to_do(client, org, chinese):
    # admin access granted by hand, no role: nothing on the home is theirs
    staff = make_user("staff_only")
    staff.user_permissions.add(
        *Group.objects.get(name=Role.EDITOR).permissions.filter(codename="access_admin")
    )
    login_staff(client, staff)
    html = client.get("/admin/").content.decode()
    assert 'data-testid="home-no-panels"' in html and "请联系管理员" in html


# --- The whole home at a fixed number of queries ------------------------------------------


def _busy_persons(org, count: int) -> None:
    """``count`` more persons of the east office and the counselor's caseload, each with a
    task in every panel that lists persons."""
    now = timezone.now()
    today = timezone.localdate()
    for _ in range(count):
        person = make_person(org.east, case_officer=org.officer, counselors=(org.counselor,))
        person.user.set_unusable_password()
        person.user.save(update_fields=["password"])
        FollowUp.objects.create(
            person=person,
            period=today.replace(day=1),
            requirement_key=f"quota:{today:%Y-%m}",
            stage=FollowUpStage.OFFICER,
            opened_at=now,
            officer_due=today - dt.timedelta(days=1),
        )
        AbsenceRequest.objects.create(
            person=person,
            period=today.replace(day=1),
            requirement_key=f"quota:{today:%Y-%m}",
            reason="住院",
            filed_at=now,
        )
        submitted(person, PHQ9_CRITICAL, org.counselor)
        CounselingAppointment.objects.create(
            person=person, counselor=org.counselor, scheduled_at=now + dt.timedelta(days=1)
        )
    Alert.objects.update(escalated_at=now)


@pytest.mark.parametrize("role", ["officer", "counselor", "administrator"])
def test_the_home_reads_a_fixed_number_of_queries_whatever_the_persons(
    client, org, chinese, role, django_assert_max_num_queries
):
    login_staff(client, getattr(org, role))
    _busy_persons(org, 1)
    client.get("/admin/")  # warm the per-process caches (menu, site)
    with django_assert_max_num_queries(60) as few:
        client.get("/admin/")
    _busy_persons(org, 12)
    # at most the "and N more" counts, which a full list adds
    with django_assert_max_num_queries(len(few.captured_queries) + 4):
        response = client.get("/admin/")
    assert response.status_code == 200
