"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import django_filters
from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from lib.admin_columns import ForgivingFiltersMixin, PlainDateColumn
from lib.downloads import attachment
from people import person_page
from people.activation import activation_status
from people.filters import office_filter
from people.models import Category, Person, PersonStatus
from people.privacy import collect_person_data
from people.roles import is_staff_member
from people.services import (
    RosterFileError,
    access_person_for_user,
    check_roster,
    do_import_roster,
    read_roster,
)

PAGE_SIZE = 50
# The person page's timeline grows by this many events per "more", up to the cap.
TIMELINE_STEP = 40
TIMELINE_MAX = 400


def _require_staff(request) -> None:
    if not is_staff_member(request.user):
        raise deny(request)


class PersonFilterSet(WagtailFilterSet):
    """The person list's filters; the office choices are the caller's own offices only."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=PersonStatus.choices)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices)
    office = office_filter()

    class Meta:
        model = Person
        fields: list[str] = []


def _person_url(person: Person) -> str:
    return reverse("people_person_detail", args=[person.pk])


def _officer_name(person: Person) -> str:
    return person.case_officer.get_full_name() if person.case_officer_id else ""


class PersonIndexView(ForgivingFiltersMixin, generic.IndexView):
    """The supervised persons of the caller's scope (``Person.objects.visible_to``): search by
    name or case number, filter by status, category and office, order by any column; the
    spreadsheet export is the administrators' and is logged (``audit.wagtail_exports``)."""

    model = Person
    # Scoped by visible_to, not by a model permission: a lecturer's list is simply empty.
    any_permission_required = None
    permission_policy = None
    index_url_name = "people_person_list"
    index_results_url_name = "people_person_list_results"
    results_template_name = "includes/index_results.html"
    page_title = _("Supervised persons")
    header_icon = "group"
    paginate_by = PAGE_SIZE
    filterset_class = PersonFilterSet
    search_fields = ["full_name", "case_number"]
    search_backend_name = None
    default_ordering = ("office__path", "case_number")
    columns = [
        TitleColumn(
            "case_number", label=_("Case number"), sort_key="case_number", get_url=_person_url
        ),
        TitleColumn("full_name", label=_("Name"), sort_key="full_name", get_url=_person_url),
        Column("office", label=_("Office"), sort_key="office__path"),
        Column("get_category_display", label=_("Category"), sort_key="category"),
        Column("get_status_display", label=_("Status"), sort_key="status"),
        Column("case_officer", label=_("Case officer"), accessor=_officer_name),
        PlainDateColumn("supervision_end", label=_("Supervision ends")),
    ]
    list_export = [
        "case_number",
        "full_name",
        "office",
        "get_category_display",
        "get_status_display",
        "case_officer",
        "supervision_start",
        "supervision_end",
    ]
    export_headings = {
        "case_number": _("Case number"),
        "full_name": _("Name"),
        "office": _("Office"),
        "get_category_display": _("Category"),
        "get_status_display": _("Status"),
        "case_officer": _("Case officer"),
        "supervision_start": _("Supervision starts"),
        "supervision_end": _("Supervision ends"),
    }
    export_filename = "persons"

    def dispatch(self, request, *args, **kwargs):
        _require_staff(request)
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return Person.objects.visible_to(self.request.user).select_related("office", "case_officer")

    def order_queryset(self, queryset):
        # pk last: pages stay stable when many persons share a name or an office
        ordering = self.ordering if isinstance(self.ordering, tuple) else (self.ordering,)
        return queryset.order_by(*ordering, "pk")

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "person-list"}}

    def to_row_dict(self, item):
        row = super().to_row_dict(item)
        row["case_officer"] = _officer_name(item)
        row["office"] = item.office.name
        return row

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _(
                "No person in your scope matches. Clear the search or the filters to see everyone."
            )
        return _(
            "No persons to show. If you expected some, ask an administrator to check your "
            "office or caseload."
        )


def _timeline_filter(request) -> tuple[list[str], int, list[str]]:
    """The chosen timeline kinds and length from GET, and what was ignored (a bad value is
    dropped with a message, never an error)."""
    known = {source.kind for source in person_page.timeline_kinds()}
    ignored: list[str] = []
    kinds = []
    for value in request.GET.getlist("kind")[:20]:
        if value in known:
            kinds.append(value)
        else:
            ignored.append(_("Unknown kind of event ignored: “%(value)s”.") % {"value": value[:40]})
    shown = TIMELINE_STEP
    raw = request.GET.get("shown", "")
    if raw:
        try:
            shown = int(raw)
        except ValueError:
            shown = 0
        if not TIMELINE_STEP <= shown <= TIMELINE_MAX:
            ignored.append(
                _("The number of events to show was not understood; showing the newest.")
            )
            shown = TIMELINE_STEP
    return kinds, shown, ignored


def person_detail(request, pk: int):
    """One page per person (一人一档): the summary and every section the apps register, and
    the timeline. Logged once per view (``access_person_for_user``)."""
    _require_staff(request)
    person = access_person_for_user(request.user, pk, request=request)
    visit = person_page.Visit(person, request.user)
    kinds, shown, ignored = _timeline_filter(request)
    entries, has_more = person_page.timeline(visit, kinds, limit=shown)
    more_query = urlencode(
        [("kind", kind) for kind in kinds] + [("shown", min(shown + TIMELINE_STEP, TIMELINE_MAX))]
    )
    return render(
        request,
        "people/admin/person_detail.html",
        {
            "person": person,
            "counselors": person.counselors.all(),
            "facts": person_page.summary_facts(visit),
            "sections": person_page.sections_for(visit),
            "timeline": entries,
            "timeline_kinds": [
                (source.kind, source.label, source.kind in kinds)
                for source in person_page.timeline_kinds()
            ],
            "timeline_more": f"?{more_query}#timeline" if has_more and shown < TIMELINE_MAX else "",
            "timeline_ignored": ignored,
            "can_export": request.user.has_perm("people.export_person_data"),
            "can_issue_activation": request.user.has_perm("people.add_activationcode"),
            "activation": activation_status(person),
        },
    )


@require_POST
@permission_required("people.export_person_data")
def person_export(request, pk: int):
    """Subject-access export: everything held about one person, as a JSON download.

    POST only (a logged, sensitive action must not be triggered by a link or a prefetch)."""
    person = access_person_for_user(request.user, pk, request=request)
    data = collect_person_data(person)
    record_access(request, action=Action.EXPORT, obj=person, person_id=person.pk)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    filename = f"person-{person.pk}-{timezone.localdate():%Y%m%d}.json"
    return attachment(body, "application/json; charset=utf-8", filename)


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An .xlsx or .csv file with one row per person."),
    )


@permission_required("people.import_roster")
def roster_import(request):
    report = None
    summary = None
    file_error = None
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = check_roster(read_roster(upload, filename=upload.name))
        except RosterFileError as exc:
            file_error = str(exc)
        else:
            if report.ok:
                summary = do_import_roster(report)
    return render(
        request,
        "people/admin/roster_import.html",
        {"form": form, "report": report, "summary": summary, "file_error": file_error},
    )
