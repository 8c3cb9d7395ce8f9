"""Listing columns for Wagtail admin viewsets.

A boolean field named in ``list_display`` renders as the raw ``True``/``False``; ``YesNoColumn``
shows "是"/"否" in the reader's language, sortable by the field.
"""

from __future__ import annotations

from django.utils.translation import gettext
from wagtail.admin.ui.tables import Column


class YesNoColumn(Column):
    def __init__(self, name: str, *, model, **kwargs):
        kwargs.setdefault("label", model._meta.get_field(name).verbose_name)
        kwargs.setdefault("sort_key", name)
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        value = super().get_value(instance)
        if value is None:
            return ""
        return gettext("Yes") if value else gettext("No")
