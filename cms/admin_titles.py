"""Wagtail's generic admin views join a page's title and subtitle as ``"New: Lecture"`` with a
fixed ": " (``WagtailAdminTemplateMixin.get_header_title``, Wagtail 8), no string to
translate: in Chinese the header and the browser tab read "新: 讲座". ``install()`` (from
``CmsConfig.ready()``) joins them with the project's "label separator" (": " in English,
"：" in Chinese). ``tests/cms/test_admin_titles.py`` names the method, so a Wagtail that
renames it fails there.

The same for the error summary Wagtail shows above a form with errors
(``wagtail.admin.messages.validation_error`` joins a field's label and its error with a
fixed ": "): ``install()`` replaces it with one that joins them with the label separator.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.html import format_html, format_html_join
from django.utils.translation import pgettext


def join_title(title, subtitle) -> str:
    if not subtitle:
        return title
    return f"{title}{pgettext('label separator', ': ')}{subtitle}"


def validation_error(request, message, form, buttons=None):
    """``wagtail.admin.messages.validation_error`` (Wagtail 8) with the label separator."""
    from django.contrib import messages
    from wagtail.admin.messages import render

    detail = ""
    if form.non_field_errors():
        lines = []
        for field_name, errors in form.errors.items():
            if field_name == NON_FIELD_ERRORS:
                label = ""
            else:
                try:
                    label = form[field_name].label
                except KeyError:
                    label = field_name
            for error in errors:
                lines.append(join_title(label, error) if label else error)
        items = format_html_join("\n", "<li>{}</li>", ((line,) for line in lines))
        detail = format_html('<ul class="errorlist">{}</ul>', items)
    return messages.error(request, render(message, buttons, detail=detail))


def install() -> None:
    from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin as Mixin

    if getattr(Mixin, "_label_separator", False):
        return

    def get_header_title(self):
        return join_title(self.get_page_title(), self.get_page_subtitle())

    Mixin.get_header_title = get_header_title
    Mixin._label_separator = True

    from wagtail.admin import messages as wagtail_messages

    wagtail_messages.validation_error = validation_error
