"""Listing columns and helpers for Wagtail admin viewsets and index views.

A boolean field named in ``list_display`` renders as the raw ``True``/``False``; ``YesNoColumn``
shows "是"/"否" in the reader's language, sortable by the field.
``IdentifiedRowsTable`` marks each row with a test id, ``LinkColumn`` a link, ``PlainDateColumn``
shows the day (2026-03-25), ``ForgivingFiltersMixin`` drops a filter value not understood,
and ``ShortListMixin`` spares a short list its ``COUNT`` query. ``person_columns`` are the
person, case number and office every list of a person's rows opens with.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from wagtail.admin.ui.tables import Column, Table, TitleColumn


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


class IdentifiedRowsTable(Table):
    """A listing table whose rows carry ``data-testid="<row_prefix>-<pk>"``, so that tests and
    browser journeys find one row; subclass with ``row_prefix`` set."""

    row_prefix = "row"

    def get_row_attrs(self, instance):
        attrs = super().get_row_attrs(instance)
        attrs["data-testid"] = f"{self.row_prefix}-{instance.pk}"
        return attrs


class PlainDateColumn(Column):
    """A date or time as the day it fell on in the display time zone (``2026-03-25``, or with
    ``format="Y-m-d H:i"`` the minute), sortable by the field; Wagtail's ``DateColumn`` says
    "3 months ago", which hides the day staff compare with a letter or a court order."""

    def __init__(self, name: str, *, format: str = "Y-m-d", **kwargs):  # noqa: A002
        kwargs.setdefault("sort_key", name)
        super().__init__(name, **kwargs)
        self.format = format

    def get_value(self, instance):
        value = super().get_value(instance)
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value)
        return date_format(value, self.format)


class LinkColumn(TitleColumn):
    """A cell linked to ``get_url(row)``, whose link ``link_testid(row)`` names for tests and
    browser journeys (``data-testid``)."""

    def __init__(self, name: str, *, link_testid=None, **kwargs):
        super().__init__(name, **kwargs)
        self._link_testid = link_testid

    def get_link_attrs(self, instance, parent_context):
        attrs = super().get_link_attrs(instance, parent_context)
        if self._link_testid is not None:
            attrs["data-testid"] = self._link_testid(instance)
        return attrs


class ForgivingFiltersMixin:
    """For a Wagtail ``IndexView``: a filter value not understood (an old link, a hand-typed
    address) is dropped and the other filters still apply, instead of the whole filter form
    being ignored."""

    def get_filterset_kwargs(self):
        kwargs = super().get_filterset_kwargs()
        if self.filterset_class is None:
            return kwargs
        probe = self.filterset_class(**kwargs)
        if not probe.is_valid():
            data = kwargs["data"].copy()
            for name in probe.form.errors:
                data.pop(name, None)
            kwargs["data"] = data
        return kwargs


class ShortListMixin:
    """For a Wagtail ``IndexView``: the first page is read with one row more than it shows; a
    list that fits on it is counted by its length, without a ``COUNT`` query (a counselor's
    queue, a short log). A longer list is counted as usual and its first page is not read
    twice."""

    def paginate_queryset(self, queryset, page_size):
        if self.request.GET.get(self.page_kwarg, "1") != "1":
            return super().paginate_queryset(queryset, page_size)
        head = list(queryset[: page_size + 1])
        if len(head) <= page_size:
            paginator = self.get_paginator(head, page_size)
            paginator.model = queryset.model  # "3 结果", not Wagtail's "3 items" of a list
            page = paginator.get_page(1)
            return paginator, page, page.object_list, False
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(1)
        page.object_list = head[:page_size]
        return paginator, page, page.object_list, True


class MarkedColumn(Column):
    """A cell drawn on one line, ``<td data-testid="…">value</td>`` when ``testid`` is given:
    tests and browser journeys read one cell without the listing's whitespace."""

    cell_template_name = "includes/marked_cell.html"

    def __init__(self, name: str, *, testid: str = "", **kwargs):
        super().__init__(name, **kwargs)
        self.testid = testid


def _person_page(row) -> str:
    return reverse("people_person_detail", args=[row.person_id])


def person_columns(*, get_url=None, link_testid=None) -> list[Column]:
    """The person's name, case number and office for a list of rows with a ``person``, each
    sortable but the office. The name links to ``get_url(row)`` (the row's own page, with
    ``link_testid``) or, without it, to the person's page; when the name goes to the row's
    page the case number links to the person's page, so the person is always one click away
    (``data-testid="person-link"``)."""
    name = LinkColumn(
        "person",
        label=gettext_lazy("Person"),
        accessor="person.full_name",
        sort_key="person__full_name",
        get_url=get_url or _person_page,
        link_testid=link_testid or (lambda row: "person-link"),
    )
    case_number = {
        "label": gettext_lazy("Case number"),
        "accessor": "person.case_number",
        "sort_key": "person__case_number",
    }
    if get_url is None:
        case = Column("case_number", **case_number)
    else:
        case = LinkColumn(
            "case_number",
            get_url=_person_page,
            link_testid=lambda row: "person-link",
            **case_number,
        )
    office = Column("office", label=gettext_lazy("Office"), accessor="person.office.name")
    return [name, case, office]
