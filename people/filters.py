"""The office filter every staff list offers: its choices are the offices the viewer sees
(``Office.objects.visible_to``), read when the list is drawn."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy

from people.models import Office


def visible_offices(request):
    return Office.objects.visible_to(request.user)


def office_filter(**kwargs) -> django_filters.ModelChoiceFilter:
    """A filter by office over the viewer's offices; ``kwargs`` as django-filter's
    (``field_name="person__office"`` for rows of a person, ``method`` for another rule)."""
    return django_filters.ModelChoiceFilter(
        label=gettext_lazy("Office"), queryset=visible_offices, **kwargs
    )
