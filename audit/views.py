"""Administrators browse, search, filter and export the access log in the Wagtail admin.

The list is Wagtail's ``IndexView``: search by the user's sign-in or real name and by the
person's name or case number (never an internal id), filters by action, user and dates,
ordering by column. The export is not Wagtail's spreadsheet link: it is the audit record
itself (raw codes, ids and the chain's hashes), a POST of the page's search and filters,
logged, for administrators only (``audit.view_accessevent``).
"""

from __future__ import annotations

import datetime as dt
from itertools import chain

import django_filters
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.search import SearchForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from audit.decorators import deny, permission_required
from audit.labels import describe_events
from audit.models import AccessEvent, Action
from audit.services import record_access
from lib.admin_columns import IdentifiedRowsTable, MarkedColumn, PlainDateColumn
from lib.downloads import CSV_TYPE, attachment, csv_stream
from lib.widgets import DateInput
from people.models import Person, User

PAGE_SIZE = 100
VIEW_LOG = "audit.view_accessevent"
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
# The filters and the search travel with the export form as hidden fields.
FILTER_NAMES = ("q", "action", "username", "since", "until")


class AccessLogFilterSet(WagtailFilterSet):
    """Action, the user's sign-in name (exact: it is what the log stored) and a range of
    days; an end before the start is an error shown on the form."""

    action = django_filters.ChoiceFilter(label=_("Action"), choices=Action.choices)
    username = django_filters.CharFilter(label=_("User"), max_length=150)
    since = django_filters.DateFilter(
        label=_("From"), field_name="at", lookup_expr="date__gte", widget=DateInput()
    )
    until = django_filters.DateFilter(
        label=_("To"), field_name="at", lookup_expr="date__lte", widget=DateInput()
    )

    class Meta:
        model = AccessEvent
        fields: list[str] = []

    def is_valid(self):
        if not super().is_valid():
            return False
        since, until = (self.form.cleaned_data.get(name) for name in ("since", "until"))
        if since and until and until < since:
            self.form.add_error("until", gettext("The end date is before the start date."))
            return False
        return True


def search_events(events, query: str):
    """The events whose user (sign-in name or real name) or person (name or case number)
    contains ``query``."""
    if not query:
        return events
    users = User.objects.filter(
        Q(name__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)
    ).values("pk")
    persons = Person._base_manager.filter(
        Q(full_name__icontains=query) | Q(case_number__icontains=query)
    ).values("pk")
    return events.filter(
        Q(username__icontains=query) | Q(user_id__in=users) | Q(person_id__in=persons)
    )


def filtered_events(data, events):
    """``events`` narrowed by the search and filters in ``data`` (GET or the export's POST);
    a filter not understood gives no rows, never the whole log unfiltered."""
    filters = AccessLogFilterSet(data=data)
    if not filters.is_valid():
        return events.none()
    search = SearchForm(data)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    return search_events(filters.filter_queryset(events), query)


class ObjectColumn(Column):
    cell_template_name = "audit/access_log_object_cell.html"

    def get_value(self, instance):
        return instance


def _result(event: AccessEvent) -> str:
    return gettext("ok") if event.success else gettext("refused")


class AccessLogTable(IdentifiedRowsTable):
    row_prefix = "access-event"


class AccessLogView(generic.IndexView):
    """The whole log (administrators: ``audit.view_accessevent``), newest first, 100 a page,
    each row's object named and its person shown by case number (``describe_events``, a
    fixed number of queries)."""

    model = AccessEvent
    any_permission_required = None  # audit.view_accessevent: checked in dispatch
    permission_policy = None
    index_url_name = "audit_access_log"
    index_results_url_name = "audit_access_log_results"
    template_name = "audit/access_log.html"
    results_template_name = "audit/access_log_results.html"
    page_title = _("Access log")
    header_icon = "history"
    paginate_by = PAGE_SIZE
    filterset_class = AccessLogFilterSet
    table_class = AccessLogTable
    search_fields = ["username"]  # see search_queryset: users and persons by name too
    search_backend_name = None
    default_ordering = "-at"
    columns = [
        PlainDateColumn("at", label=_("Time"), format="Y-m-d H:i:s"),
        MarkedColumn(
            "username",
            label=_("User"),
            accessor=lambda event: event.username or "—",
            sort_key="username",
        ),
        MarkedColumn("role", label=_("Role"), accessor="role_label"),
        Column("action", label=_("Action"), accessor="get_action_display", sort_key="action"),
        ObjectColumn("object", label=_("Object")),
        MarkedColumn("case_number", label=_("Case number"), testid="access-log-case"),
        Column("ip", label="IP", accessor=lambda event: event.ip or ""),
        Column("success", label=_("Result"), accessor=_result, sort_key="success"),
    ]

    # the export is the logged POST below (``access_log_export``), never Wagtail's GET link;
    # tests/security/test_export_formulas.py reads this to leave the GET link out
    get_export = False

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(VIEW_LOG):
            raise deny(request, f"{request.method} needs {VIEW_LOG}")
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return AccessEvent.objects.all()

    def filter_queryset(self, queryset):
        if self.filters is not None and not self.filters.is_valid():
            return queryset.none()  # a date not understood must not show the whole log
        return super().filter_queryset(queryset)

    def search_queryset(self, queryset):
        return search_events(queryset, self.search_query)

    def order_queryset(self, queryset):
        # pk last, the same way: the chain's order among events of the same second
        last = "-pk" if self.ordering.startswith("-") else "pk"
        return queryset.order_by(self.ordering, last)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, others = super().paginate_queryset(queryset, page_size)
        page.object_list = list(page.object_list)
        describe_events(page.object_list)
        return paginator, page, page.object_list, others

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "access-log"}}

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["export_filters"] = [
            (name, value)
            for name in FILTER_NAMES
            for value in self.request.GET.getlist(name)[:1]
            if value
        ]
        context["no_results_testid"] = "access-log-empty"
        return context

    @cached_property
    def no_results_message(self):
        if self.filters is not None and not self.filters.is_valid():
            return _("A filter was not understood: correct it under “Filter” to see events.")
        if self.is_searching or self.is_filtering:
            return _(
                "No event matches. Check the dates, or clear the search and the filters to "
                "see the whole log."
            )
        return _(
            "Nothing recorded yet. Sign-ins, views of person records, changes and exports "
            "appear here as they happen."
        )


@require_POST
@permission_required(VIEW_LOG)
def access_log_export(request):
    """The searched and filtered log as CSV, streamed. POST (the page's search and filters as
    hidden fields): a logged export is never triggered by a link or a prefetch. Every cell
    goes through the formula-safe writer: a sign-in attempt's username is typed by anyone on
    the internet."""
    filters = request.POST.copy()
    filters.pop("csrfmiddlewaretoken", None)
    events = filtered_events(filters, AccessEvent.objects.order_by("id"))
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
