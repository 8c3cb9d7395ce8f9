"""Administrators browse, filter and export the access log in the Wagtail admin."""

from __future__ import annotations

import datetime as dt
from itertools import chain

from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.decorators import permission_required
from audit.models import AccessEvent, Action
from audit.services import record_access
from lib.downloads import CSV_TYPE, attachment, csv_stream
from lib.widgets import DateInput
from people.roles import Role

PAGE_SIZE = 100
EXPORT_FIELDS = [
    "id",
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "ip",
    "success",
    "detail",
    "hash",
]


class AccessLogFilter(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", "—"), *Action.choices], required=False
    )
    username = forms.CharField(label=_("User"), max_length=150, required=False)
    person_id = forms.IntegerField(label=_("Person id"), required=False, min_value=1)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data

    def filter(self, events):
        if not self.is_valid():
            return events.none()
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["username"]:
            events = events.filter(username=data["username"])
        if data["person_id"]:
            events = events.filter(person_id=data["person_id"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
        return events


def _object_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def _describe(events: list[AccessEvent]) -> list[AccessEvent]:
    """Give each event ``role_label`` and ``object_label`` in the reader's language: the log
    stores codes (``administrator``, ``people.person``), which the page must not show."""
    roles = {**dict(Role.choices), "superuser": _("Superuser")}
    for event in events:
        codes = [code for code in event.role.split(",") if code]
        event.role_label = "、".join(str(roles.get(code, code)) for code in codes)
        event.object_label = _object_label(event.object_type) if event.object_type else ""
    return events


@permission_required("audit.view_accessevent")
def access_log(request):
    form = AccessLogFilter(request.GET or None)
    events = AccessEvent.objects.all()
    if request.GET:
        events = form.filter(events)
    query = request.GET.copy()
    query.pop("p", None)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("p"))
    page.object_list = _describe(list(page.object_list))
    return render(
        request,
        "audit/access_log.html",
        {
            "form": form,
            "page_obj": page,
            "query": query.urlencode(),
            "export_filters": [(k, v) for k, values in query.lists() for v in values],
        },
    )


@require_POST
@permission_required("audit.view_accessevent")
def access_log_export(request):
    """The filtered log as CSV, streamed. POST (the page's filters as hidden fields): a
    logged export is never triggered by a link or a prefetch. Every cell goes through the
    formula-safe writer: a sign-in attempt's username is typed by anyone on the internet."""
    filters = request.POST.copy()
    filters.pop("csrfmiddlewaretoken", None)
    form = AccessLogFilter(filters or None)
    events = AccessEvent.objects.order_by("id")
    if filters:
        events = form.filter(events)
    record_access(
        request,
        action=Action.EXPORT,
        object_type="audit.accessevent",
        detail=filters.urlencode()[:255],
    )
    rows = events.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    content = csv_stream(chain([EXPORT_FIELDS], rows))
    return attachment(content, CSV_TYPE, f"access-log-{stamp}.csv")
