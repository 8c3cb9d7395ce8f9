from __future__ import annotations

from wagtail import hooks

from cms.menu import DROP, MENU_GROUPS, PLAIN_LINKS, UNWRAP
from lib.admin_menu import group_menu_items


@hooks.register("construct_main_menu")
def menu_by_job(request, menu_items):
    group_menu_items(
        request, menu_items, MENU_GROUPS, unwrap=UNWRAP, drop=DROP, plain_links=PLAIN_LINKS
    )
