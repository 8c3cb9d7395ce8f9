"""lib/admin_menu.py: who sees a menu item and the count in its label are configured by data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from lib.admin_menu import AdminMenuItem


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
