"""The admin menu by job (cms/menu.py): at most eight top-level entries for any role, each
item in its group, nothing a role cannot use."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from wagtail.admin.menu import admin_menu
from wagtail.admin.ui.sidebar import SubMenuItem

from cms.menu import DROP, MENU_GROUPS, UNWRAP
from courses.services import ensure_course_permissions
from tests.factories import make_user
from tests.learning.builders import course_index

pytestmark = pytest.mark.django_db


def sidebar(user) -> dict[str, list[str] | str]:
    reverse("wagtailadmin_home")  # the URLconf registers the viewsets' menu items
    request = RequestFactory().get("/admin/")
    request.user, request.session = user, SessionStore()
    with translation.override("zh-hans"):
        return {
            c.name: [f"{s.name}:{s.label}" for s in c.menu_items]
            if isinstance(c, SubMenuItem)
            else str(c.label)
            for c in admin_menu.render_component(request)
        }


def test_every_registered_item_has_a_group_or_is_the_inbox():
    reverse("wagtailadmin_home")
    grouped = {member for group in MENU_GROUPS for member in group.members}
    names = {item.name for item in admin_menu.registered_menu_items}
    assert names - grouped - set(UNWRAP) - DROP == {"notifications"}


@pytest.mark.parametrize(
    "role, expected",
    [
        (
            "officer",
            # 人员: the persons and the video roll-calls
            ["notifications", "people", "learning", "lectures"] + ["plans", "participation"],
        ),
        (
            "counselor",
            ["notifications", "supervised-persons", "study-progress"]
            + ["questionnaire-reviews", "plans"],
        ),
        ("lecturer", ["notifications", "learning", "lectures"]),
        ("editor", ["notifications", "learning"]),
        (
            "administrator",
            # plans themselves are granted per user (plans.view_bureau_plans), never by role;
            # the group holds the plan rules and the education and assistance files
            ["notifications", "people", "learning", "lectures", "assessments", "plans"]
            + ["participation", "system"],
        ),
    ],
)
def test_each_role_sees_its_jobs_and_nothing_else(org, role, expected):
    assert list(sidebar(getattr(org, role))) == expected


def test_a_superuser_sees_eight_entries_in_chinese_without_wagtails_help():
    menu = sidebar(make_user("root", is_superuser=True, is_staff=True))
    assert len(menu) == 8
    assert menu["people"] == [
        "supervised-persons:社区矫正对象",
        "video-roll-calls:视频点验",
        "roll-call-rules:点验规则",
        "import-roster:导入名册",
        "staff-accounts:工作人员账号",
    ]
    assert menu["participation"][0] == "participation-rate:总览"
    assert "page-types-usage:页面类型使用情况" in menu["system"]
    assert "help" not in menu
    labels = [str(v) for v in menu.values() if isinstance(v, str)]
    assert all("报表" not in label for label in labels)  # only the participation reports remain


def test_officers_find_the_roll_calls_beside_the_persons(org):
    assert sidebar(org.officer)["people"] == [
        "supervised-persons:社区矫正对象",
        "video-roll-calls:视频点验",
    ]


def test_lecturers_and_editors_get_no_empty_list_of_persons(org):
    for user in (org.lecturer, org.editor):
        flat = str(sidebar(user))
        assert "supervised-persons" not in flat


def test_authors_of_course_pages_get_no_group_of_site_reports(org):
    """With the course tree's page permissions, Wagtail would show lecturers and editors its
    reports about the site (history, workflows, page types): administrators' tools."""
    ensure_course_permissions(course_index())
    for user in (org.lecturer, org.editor):
        menu = sidebar(user)
        assert "system" not in menu and "learning" in menu
        assert "site-history" not in str(menu)
    assert "site-history:网站历史" in sidebar(org.administrator)["system"]
