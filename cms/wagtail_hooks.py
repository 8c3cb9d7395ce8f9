"""The admin's frame: the menu by job (``cms/menu.py``) and the home. Each app adds the home
panels of the roles they are for (``<app>/panels.py``, registered in its ``wagtail_hooks.py``);
here Wagtail's own dashboard panels and site summary go, since none of them is a task of any
role here. Editors get their review list from ``courses.panels`` instead of Wagtail's."""

from __future__ import annotations

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks

from cms.menu import DROP, MENU_GROUPS, PLAIN_LINKS, SITE_REPORTS, UNWRAP
from lib.admin_menu import group_menu_items
from people.roles import Role, has_role

# Wagtail's default home panels (``wagtail.admin.views.home``), by ``name``.
WAGTAIL_PANELS = frozenset(
    {
        "workflow_objects_to_moderate",
        "user_objects_in_workflow_moderation",
        "recent_edits",
        "locked_pages",
        "whats_new_in_wagtail_version",
    }
)


@hooks.register("construct_main_menu")
def menu_by_job(request, menu_items):
    user = request.user
    admin = user.is_superuser or has_role(user, Role.ADMINISTRATOR)
    drop = DROP if admin else DROP | SITE_REPORTS
    group_menu_items(
        request, menu_items, MENU_GROUPS, unwrap=UNWRAP, drop=drop, plain_links=PLAIN_LINKS
    )


@hooks.register("construct_homepage_panels")
def remove_wagtail_panels(request, panels):
    panels[:] = [panel for panel in panels if getattr(panel, "name", "") not in WAGTAIL_PANELS]


@hooks.register("construct_homepage_summary_items")
def remove_site_summary(request, summary_items):
    summary_items.clear()


@hooks.register("insert_global_admin_css")
def admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("cms/admin.css"))
