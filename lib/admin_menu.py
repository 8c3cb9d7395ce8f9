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

from collections.abc import Callable
from typing import Any

from wagtail.admin.menu import MenuItem


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
