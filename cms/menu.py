"""The admin menu by job: which items each top-level entry gathers (``lib.admin_menu``).

At most eight top-level entries for any role: 通知, 人员, 学习, 讲座, 测评, 帮扶方案, 参与率
and 系统. A role sees a group only with the items it may use; a group with a single item
shows that item directly. Names are ``MenuItem.name`` (each app's ``wagtail_hooks.py`` or
viewset ``menu_name``; Wagtail's own for pages, images, settings and reports).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lib.admin_menu import MenuGroup

MENU_GROUPS = (
    MenuGroup(
        "people",
        _("People"),
        "group",
        200,
        (
            "supervised-persons",
            "video-roll-calls",
            "roll-call-rules",
            "import-roster",
            "staff-accounts",
        ),
    ),
    MenuGroup(
        "learning",
        _("Learning"),
        "doc-full-inverse",
        300,
        (
            "explorer",
            "course-enrollments",
            "study-progress",
            "monthly-study-quotas",
            "auto-enrollment-rules",
            "images",
            "documents",
            "snippets",
            "forms",
        ),
        relabel={"explorer": _("Course pages")},
    ),
    MenuGroup(
        "lectures",
        _("Lectures"),
        "media",
        400,
        ("lectures", "attendance-policy"),
        relabel={"lectures": _("All lectures")},
    ),
    MenuGroup(
        "assessments",
        _("Assessments"),
        "clipboard-list",
        500,
        ("questionnaire-reviews", "questionnaire-statistics", "questionnaire-schedule"),
    ),
    MenuGroup(
        "plans",
        _("Assistance"),
        "tasks",
        600,
        ("assistance-plans", "education-files", "plan-rules", "file-catalogue"),
        relabel={"assistance-plans": _("All plans")},
    ),
    MenuGroup(
        "participation",
        _("Participation rate"),
        "doc-full",
        700,
        (
            "participation-rate",
            "people-to-follow-up",
            "leave-requests",
            "participation-reports",
            "reminder-texts",
            "follow-up-policy",
        ),
        relabel={"participation-rate": _("Overview")},
    ),
    MenuGroup(
        "system",
        _("System"),
        "cogs",
        900,
        (
            "access-log",
            "delivery-log",
            "scheduled-jobs",
            "crisis-lines",
            "users",
            "groups",
            "sites",
            "collections",
            "redirects",
            "workflows",
            "workflow-tasks",
            "locked-pages",
            "site-history",
            "aging-pages",
            "page-types-usage",
        ),
    ),
)

# Wagtail's settings and reports menus give their items to the groups above; its help menu
# (what is new in Wagtail, an external editor guide) is not for the bureau's staff.
UNWRAP = ("settings", "reports")
DROP = frozenset({"help"})
PLAIN_LINKS = frozenset({"explorer"})

# Wagtail's reports about the site itself (who changed which page, workflows, page types):
# the administrators' tools. A lecturer or editor who may edit course pages would otherwise
# get a 系统 group of them; editors find the pages waiting for them on their home.
SITE_REPORTS = frozenset(
    {
        "workflows",
        "workflow-tasks",
        "locked-pages",
        "site-history",
        "aging-pages",
        "page-types-usage",
    }
)
