"""One Wagtail admin menu item for every app: who sees it and what count it shows are data.

An app's ``wagtail_hooks.py`` registers, for example::

    AdminMenuItem(
        _("Leave requests"),
        reverse("learning_absence_queue"),
        icon_name="date",
        order=306,
        shown_to=may_handle,
        count=pending_count,
        label_with_count=_("Leave requests (%(count)s)"),
    )

The item is shown when the user holds ``permission`` and ``shown_to(user)`` is true; with
neither, it is shown to everyone who reaches the admin. With ``count``, a non-zero
``count(user)`` replaces the label by ``label_with_count`` (one query per page rendered).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem


class AdminMenuItem(MenuItem):
    def __init__(
        self,
        label: Any,
        url: str,
        *,
        permission: str | None = None,
        shown_to: Callable[[Any], bool] | None = None,
        count: Callable[[Any], int] | None = None,
        label_with_count: Any = None,
        **kwargs: Any,
    ) -> None:
        """``label`` and ``label_with_count`` may be lazy translations; the latter holds
        ``%(count)s``. The remaining keyword arguments are Wagtail's ``MenuItem``'s."""
        if (count is None) != (label_with_count is None):
            raise ValueError("count and label_with_count go together")
        super().__init__(label, url, **kwargs)
        self.permission = permission
        self.shown_to = shown_to
        self.count = count
        self.label_with_count = label_with_count

    def is_shown(self, request) -> bool:
        user = request.user
        if self.permission is not None and not user.has_perm(self.permission):
            return False
        return self.shown_to is None or bool(self.shown_to(user))

    def render_component(self, request):
        component = super().render_component(request)
        if self.count is not None and (count := self.count(request.user)):
            component.label = str(self.label_with_count) % {"count": count}
        return component


# --- Menus by job -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuGroup:
    """One top-level entry of the admin menu that gathers the items named in ``members``
    (``MenuItem.name``) into a submenu. ``relabel`` gives a member a shorter label inside
    the group (where its own label would repeat the group's)."""

    name: str
    label: Any
    icon_name: str
    order: int
    members: tuple[str, ...]
    relabel: dict[str, Any] = field(default_factory=dict)


class _ItemsShown(Menu):
    """A submenu of items already checked for this request (never asks ``is_shown`` twice)."""

    def menu_items_for_request(self, request):
        return list(self.initial_menu_items or ())

    def render_component(self, request):
        return [item.render_component(request) for item in self.menu_items_for_request(request)]


def group_menu_items(
    request,
    items: list,
    groups: tuple[MenuGroup, ...],
    *,
    unwrap: tuple[str, ...] = (),
    drop: frozenset[str] = frozenset(),
    plain_links: frozenset[str] = frozenset(),
) -> None:
    """Rearrange the main menu's ``items`` (already filtered for ``request``) in place.

    The submenus named in ``unwrap`` (Wagtail's "settings", "reports") give up their items,
    which then join groups like any other; items named in ``drop`` go, wherever they were.
    Inside a group the items keep the order of ``members``. A group with two or more items
    becomes a submenu; a group with one shows that item at the group's place; an
    item in no group stays where it is. ``plain_links`` render as plain links inside a
    submenu (Wagtail's page explorer opens a flyout that only works at the top level). The
    first item of a name wins (Wagtail has a "workflows" in both settings and reports)."""
    flat: list = []
    for item in items:
        if isinstance(item, SubmenuMenuItem) and item.name in unwrap:
            flat.extend(i for i in item.menu.menu_items_for_request(request) if i.name not in drop)
        elif item.name not in drop:
            flat.append(item)
    seen: set[str] = set()
    unique = [i for i in flat if not (i.name in seen or seen.add(i.name))]

    group_of = {member: group for group in groups for member in group.members}
    members: dict[str, list] = {group.name: [] for group in groups}
    rest = []
    for item in unique:
        group = group_of.get(item.name)
        (members[group.name] if group else rest).append(item)

    result = rest
    for group in groups:
        found = sorted(members[group.name], key=lambda i: group.members.index(i.name))
        if len(found) == 1:
            only = copy.copy(found[0])
            only.order = group.order
            result.append(only)
        elif found:
            shown = [_in_submenu(item, group, plain_links) for item in found]
            result.append(
                SubmenuMenuItem(
                    group.label,
                    _ItemsShown(items=shown),
                    name=group.name,
                    icon_name=group.icon_name,
                    order=group.order,
                )
            )
    items[:] = result


def _in_submenu(item, group: MenuGroup, plain_links: frozenset[str]):
    label = group.relabel.get(item.name)
    if item.name in plain_links:
        return MenuItem(
            label or item.label,
            item.url,
            name=item.name,
            icon_name=item.icon_name,
            order=item.order,
        )
    if label is None:
        return item
    relabelled = copy.copy(item)  # the registered instance is shared by every request
    relabelled.label = label
    return relabelled
