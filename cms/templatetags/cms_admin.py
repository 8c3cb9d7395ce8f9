"""Template filters for the admin templates ``cms`` overrides."""

from __future__ import annotations

from django import template
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

register = template.Library()


@register.filter
def app_verbose_name(content_type: ContentType) -> str:
    """The app a content type belongs to, named in the reader's language."""
    return str(apps.get_app_config(content_type.app_label).verbose_name)
