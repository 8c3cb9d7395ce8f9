"""lib/admin_menu.py: who sees a menu item and the count in its label are configured by data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from lib.admin_menu import AdminMenuItem, MenuGroup, group_menu_items


def request_as(*perms: str, staff: bool = False, unread: int = 0):
    user = SimpleNamespace(has_perm=lambda perm: perm in perms, staff=staff, unread=unread)
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def item(**config) -> AdminMenuItem:
    return AdminMenuItem(_("Inbox"), "/admin/inbox/", icon_name="mail", order=150, **config)


def test_without_a_rule_everyone_in_the_admin_sees_it():
    assert item().is_shown(request_as())


def test_a_permission_shows_it_only_to_holders():
    menu_item = item(permission="audit.view_accessevent")
    assert menu_item.is_shown(request_as("audit.view_accessevent"))
    assert not menu_item.is_shown(request_as("people.view_person"))


def test_a_predicate_receives_the_user():
    menu_item = item(shown_to=lambda user: user.staff)
    assert menu_item.is_shown(request_as(staff=True))
    assert not menu_item.is_shown(request_as(staff=False))


def test_a_permission_and_a_predicate_must_both_hold():
    menu_item = item(permission="people.view_office", shown_to=lambda user: user.staff)
    assert menu_item.is_shown(request_as("people.view_office", staff=True))
    assert not menu_item.is_shown(request_as("people.view_office"))
    assert not menu_item.is_shown(request_as(staff=True))


def test_a_non_zero_count_replaces_the_label_in_the_active_language():
    menu_item = item(count=lambda user: user.unread, label_with_count=_("Inbox (%(count)s)"))
    with translation.override("en"):
        assert menu_item.render_component(request_as(unread=3)).label == "Inbox (3)"
        assert str(menu_item.render_component(request_as(unread=0)).label) == "Inbox"


def test_the_rendered_link_keeps_name_url_icon_and_attributes():
    component = item(name="inbox", attrs={"data-x": "1"}).render_component(request_as())
    assert (component.name, component.url, component.icon_name, component.attrs) == (
        "inbox",
        "/admin/inbox/",
        "mail",
        {"data-x": "1"},
    )


def test_a_count_needs_a_label_to_show_it_in():
    with pytest.raises(ValueError, match="count and label_with_count"):
        item(count=lambda user: 1)
    with pytest.raises(ValueError, match="count and label_with_count"):
        item(label_with_count=_("Inbox (%(count)s)"))


# --- group_menu_items: menus by job ---------------------------------------------------------


def link(name: str, order: int = 100) -> MenuItem:
    return MenuItem(name.title(), f"/admin/{name}/", name=name, order=order)


GROUPS = (
    MenuGroup("people", _("People"), "group", 200, ("persons", "roster", "staff")),
    MenuGroup("system", _("System"), "cogs", 900, ("log", "users"), relabel={"log": "Log!"}),
)


def arrange(items, **options) -> list:
    items = list(items)
    group_menu_items(RequestFactory().get("/admin/"), items, GROUPS, **options)
    return items


def shape(items) -> list:
    return [
        (i.name, [s.name for s in i.menu.menu_items_for_request(None)])
        if isinstance(i, SubmenuMenuItem)
        else i.name
        for i in sorted(items, key=lambda i: i.order)
    ]


def test_two_or_more_items_of_a_group_become_one_submenu_in_the_tables_order():
    items = arrange([link("staff", 1), link("persons", 2), link("inbox", 150)])
    assert shape(items) == ["inbox", ("people", ["persons", "staff"])]


def test_a_group_with_one_item_shows_that_item_at_the_groups_place():
    original = link("persons", 5)
    items = arrange([link("inbox", 150), original])
    assert shape(items) == ["inbox", "persons"]
    assert items[-1].order == 200
    assert original.order == 5  # the registered item is shared by every request


def test_unwrapped_submenus_give_their_items_to_the_groups_first_name_wins():
    settings = SubmenuMenuItem(
        "Settings", Menu(items=[link("users"), link("log", 7)]), name="settings"
    )
    reports = SubmenuMenuItem("Reports", Menu(items=[link("log", 9)]), name="reports")
    items = arrange([settings, reports], unwrap=("settings", "reports"))
    assert shape(items) == [("system", ["log", "users"])]
    (group,) = items
    assert group.menu.menu_items_for_request(None)[0].url == "/admin/log/"


def test_dropped_items_go_and_relabelled_members_leave_the_registered_item_alone():
    log, users = link("log"), link("users")
    items = arrange([log, users, link("help")], drop=frozenset({"help"}))
    (group,) = items
    assert [str(i.label) for i in group.menu.menu_items_for_request(None)] == ["Log!", "Users"]
    assert log.label == "Log"


def test_plain_links_render_as_links_inside_a_submenu():
    class Flyout(MenuItem):
        def render_component(self, request):
            raise AssertionError("a flyout cannot open inside a submenu")

    items = arrange(
        [Flyout("Pages", "/admin/pages/", name="persons"), link("roster")],
        plain_links=frozenset({"persons"}),
    )
    (group,) = items
    component = group.render_component(RequestFactory().get("/admin/"))
    assert [(c.name, c.url) for c in component.menu_items] == [
        ("persons", "/admin/pages/"),
        ("roster", "/admin/roster/"),
    ]
