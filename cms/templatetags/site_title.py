"""The one pattern for every front-end page's <title>: "<page> · <site name>", or the site
name alone when a page gives no title (``base.html`` wraps its ``title`` block in it)."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.filter(is_safe=True)
def with_site_name(title: str) -> str:
    site = gettext("Community corrections learning and support platform")
    stripped = title.strip()
    if isinstance(title, SafeData):
        # Rendered template text: already escaped, and stripping must not make it look raw.
        stripped = mark_safe(stripped)  # noqa: S308 - a slice of already-safe text
    if not stripped:
        return conditional_escape(site)
    return format_html("{} · {}", stripped, site)
