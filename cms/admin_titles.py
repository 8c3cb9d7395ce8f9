"""Wagtail's generic admin views join a page's title and subtitle as ``"New: Lecture"`` with a
fixed ": " (``WagtailAdminTemplateMixin.get_header_title``, Wagtail 8), no string to
translate: in Chinese the header and the browser tab read "新: 讲座". ``install()`` (from
``CmsConfig.ready()``) joins them with the project's "label separator" (": " in English,
"：" in Chinese). ``tests/cms/test_admin_titles.py`` names the method, so a Wagtail that
renames it fails there.
"""

from __future__ import annotations

from django.utils.translation import pgettext


def join_title(title, subtitle) -> str:
    if not subtitle:
        return title
    return f"{title}{pgettext('label separator', ': ')}{subtitle}"


def install() -> None:
    from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin as Mixin

    if getattr(Mixin, "_label_separator", False):
        return

    def get_header_title(self):
        return join_title(self.get_page_title(), self.get_page_subtitle())

    Mixin.get_header_title = get_header_title
    Mixin._label_separator = True
