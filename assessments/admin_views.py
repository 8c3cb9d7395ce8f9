"""Counselor views inside the Wagtail admin (registered in ``wagtail_hooks.py``)."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.db.models import F
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from assessments.exports import (
    TABLES,
    XLSX_TYPE,
    alpha_sheet,
    band_sheet,
    csv_text,
    latest_definition,
    workbook,
)
from assessments.models import (
    VIEW_RESULT,
    VIEW_STATISTICS,
    AssignmentReason,
    Instrument,
    Result,
)
from assessments.report import (
    critical_questions,
    highest_band,
    history,
    history_chart,
    item_answers,
    previous_result,
    result_pdf,
    scale_profile,
)
from assessments.statistics import (
    SUPPRESS_BELOW,
    StatisticsFilter,
    alpha_rows,
    band_tables,
)
from assessments.taking import (
    AssessmentError,
    access_result_for_user,
    do_acknowledge_alert,
    do_assign,
    do_review,
)
from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from lib.admin_columns import (
    ForgivingFiltersMixin,
    IdentifiedRowsTable,
    MarkedColumn,
    PlainDateColumn,
    ShortListMixin,
    person_columns,
)
from lib.downloads import attachment
from lib.widgets import DateInput
from people.filters import office_filter
from people.models import Person
from people.roles import Role, has_role

PAGE_SIZE = 50


def may_see_results(user) -> bool:
    return has_role(user, Role.COUNSELOR) or user.has_perm(VIEW_RESULT)


def _require_result_access(request) -> None:
    """Lecturers, officers and administrators without ``assessments.view_result`` never get
    past this, whatever the id."""
    if not may_see_results(request.user):
        raise deny(request, "needs a counselor role or assessments.view_result")


class ReviewQueueFilterSet(WagtailFilterSet):
    """``critical=1`` only results with critical answers; ``office`` one of the caller's own
    offices. (No questionnaire filter: its choices would cost the page one more query.)"""

    critical = django_filters.ChoiceFilter(
        label=gettext_lazy("Critical answers"),
        choices=[("1", gettext_lazy("Only results with critical answers"))],
        empty_label=gettext_lazy("All results"),
        method="filter_critical",
    )
    office = office_filter(field_name="person__office")

    class Meta:
        model = Result
        fields: list[str] = []

    def filter_critical(self, queryset, name, value):
        return queryset.filter(critical=True)


def _critical_cell(result: Result) -> str:
    if not result.critical:
        return "—"
    items = ", ".join(str(item) for item in result.critical_items)
    alert = getattr(result, "alert", None)
    if alert is not None and alert.acknowledged_at is None:
        return format_html("<strong>{}</strong> · {}", items, _("not acknowledged"))
    return format_html("<strong>{}</strong>", items)


class BandColumn(MarkedColumn):
    """The most severe band the result reached, as a word (``queue-band`` for tests)."""

    def get_value(self, instance):
        band = instance.band if hasattr(instance, "band") else highest_band(instance)
        return band or "—"


class ReviewQueueTable(IdentifiedRowsTable):
    row_prefix = "queue-row"


class ReviewQueueView(ForgivingFiltersMixin, ShortListMixin, generic.IndexView):
    """Results waiting for the caller's signed review (``Result.objects.visible_to`` and
    ``review_queue``): critical answers always first, then by severity and oldest first, or by
    the column chosen; search by name or case number, filters by critical answers and
    office; the administrators' spreadsheet export is logged
    (``audit.wagtail_exports``). The counselor's home panel reads the same queue
    (``assessments.panels.review_queue_rows``)."""

    model = Result
    any_permission_required = None  # may_see_results: checked in dispatch
    permission_policy = None
    index_url_name = "assessments_review_queue"
    index_results_url_name = "assessments_review_queue_results"
    template_name = "assessments/admin/review_queue.html"
    results_template_name = "includes/index_results.html"
    page_title = gettext_lazy("Questionnaire reviews")
    header_icon = "clipboard-list"
    paginate_by = PAGE_SIZE
    filterset_class = ReviewQueueFilterSet
    table_class = ReviewQueueTable
    search_fields = ["person__full_name", "person__case_number"]
    search_backend_name = None
    default_ordering = None  # the queue's own order (``ResultQuerySet.review_queue``)
    columns = [
        *person_columns(
            get_url=lambda row: reverse("assessments_result_detail", args=[row.pk]),
            link_testid=lambda row: f"review-{row.pk}",
        ),
        Column(
            "instrument",
            label=gettext_lazy("Questionnaire"),
            accessor="instrument_version.instrument",
            sort_key="instrument_version__instrument__slug",
        ),
        BandColumn(
            "band",
            label=gettext_lazy("Most severe band"),
            sort_key="max_severity",
            testid="queue-band",
        ),
        Column("critical", label=gettext_lazy("Critical items"), accessor=_critical_cell),
        PlainDateColumn("created_at", label=gettext_lazy("Submitted"), format="Y-m-d H:i"),
    ]
    list_export = [
        "person",
        "case_number",
        "office",
        "instrument",
        "band",
        "critical",
        "created_at",
    ]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "questionnaire-reviews"

    def dispatch(self, request, *args, **kwargs):
        _require_result_access(request)
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return (
            Result.objects.visible_to(self.request.user)
            .review_queue()
            .select_related("person__office", "instrument_version__instrument", "alert")
        )

    def order_queryset(self, queryset):
        if not self.ordering:
            return queryset  # already in the queue's order, pk last
        # critical answers stay on top whatever column is chosen; pk last for stable pages
        return queryset.order_by(F("critical").desc(), self.ordering, "pk")

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "review-queue"}}

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, others = super().paginate_queryset(queryset, page_size)
        page.object_list = list(page.object_list)
        for result in page.object_list:
            result.band = highest_band(result)
        return paginator, page, page.object_list, others

    def to_row_dict(self, item):
        return {
            "person": item.person.full_name,
            "case_number": item.person.case_number,
            "office": item.person.office.name,
            "instrument": str(item.instrument_version.instrument),
            "band": highest_band(item) or "",
            "critical": ", ".join(str(i) for i in item.critical_items) if item.critical else "",
            "created_at": date_format(timezone.localtime(item.created_at), "Y-m-d H:i"),
        }

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.is_export:
            # the page's rows, each with its band (``paginate_queryset``)
            context["results"] = context["object_list"]
            context["rows"] = [(result, result.band) for result in context["object_list"]]
        context["can_assign"] = self.request.user.has_perm("assessments.add_assignment")
        context["no_results_testid"] = "queue-empty"
        return context

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No result matches. Clear the search or the filters to see the whole queue.")
        return _(
            "No result is waiting for review. New answers appear here as soon as someone "
            "submits a questionnaire."
        )


class ReviewForm(forms.Form):
    interpretation = forms.CharField(
        label=gettext_lazy("Interpretation (for staff)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
    )
    released_summary = forms.CharField(
        label=gettext_lazy("Summary the person may read"),
        help_text=gettext_lazy(
            "Plain language, no scores or diagnostic words. Leave empty to release nothing."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
    )


@require_http_methods(["GET", "POST"])
def result_detail(request, pk: int):
    _require_result_access(request)
    result = access_result_for_user(request.user, pk, request=request)
    can_review = has_role(request.user, Role.COUNSELOR)
    form = ReviewForm(request.POST if request.POST.get("action") == "review" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        alert = getattr(result, "alert", None)
        if action == "acknowledge" and alert is not None:
            do_acknowledge_alert(alert, request.user)
            messages.success(request, _("Alert acknowledged."))
            return redirect("assessments_result_detail", pk=result.pk)
        if action == "review" and can_review and form.is_valid():
            try:
                do_review(
                    result,
                    request.user,
                    form.cleaned_data["interpretation"],
                    form.cleaned_data["released_summary"],
                )
            except AssessmentError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Review signed."))
                return redirect("assessments_result_detail", pk=result.pk)
    results = history(result)
    previous = previous_result(result, results)
    review = getattr(result, "review", None)
    answers = item_answers(result)
    return render(
        request,
        "assessments/admin/result_detail.html",
        {
            "result": result,
            "person": result.person,
            "title": str(result.instrument_version.instrument),
            "profile": scale_profile(result, previous),
            "answers": answers,
            "critical_questions": critical_questions(answers),
            "chart": history_chart(result, results),
            "previous": previous,
            "alert": getattr(result, "alert", None),
            "review": review,
            "form": form,
            "can_review": can_review and (review is None or review.signed_at is None),
        },
    )


@require_POST
def result_pdf_view(request, pk: int):
    """The PDF report, logged as an export (POST: never triggered by a link or prefetch)."""
    _require_result_access(request)
    result = access_result_for_user(request.user, pk, request=request, action=Action.EXPORT)
    filename = f"result-{result.pk}-{timezone.localdate():%Y%m%d}.pdf"
    return attachment(result_pdf(result), "application/pdf", filename)


class AssignForm(forms.Form):
    instrument = forms.ModelChoiceField(
        label=gettext_lazy("Questionnaire"), queryset=Instrument.objects.none()
    )
    person = forms.ModelChoiceField(label=gettext_lazy("Person"), queryset=Person.objects.none())
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=AssignmentReason.choices)
    due = forms.DateField(label=gettext_lazy("Due"), required=False, widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].queryset = Instrument.objects.filter(
            versions__published=True
        ).distinct()
        # Own caseload only, even for a counselor who also holds another role.
        self.fields["person"].queryset = (
            Person.objects.visible_to(user).filter(caseloads__counselor=user).active().distinct()
        )


@permission_required("assessments.add_assignment")
@require_http_methods(["GET", "POST"])
def assign(request):
    if not has_role(request.user, Role.COUNSELOR):
        raise deny(request, "only counselors assign questionnaires")
    form = AssignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            do_assign(
                form.cleaned_data["instrument"].slug,
                form.cleaned_data["person"],
                request.user,
                form.cleaned_data["reason"],
                form.cleaned_data["due"],
            )
        except AssessmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Questionnaire assigned."))
            return redirect("assessments_review_queue")
    return render(request, "assessments/admin/assign.html", {"form": form})


# --- Population statistics (administrators: assessments.view_statistics) ---------------------


class StatisticsForm(forms.Form):
    instrument = forms.ModelChoiceField(
        label=gettext_lazy("Questionnaire"),
        queryset=Instrument.objects.filter(versions__published=True).distinct(),
        to_field_name="slug",
        empty_label=None,
    )
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[("month", gettext_lazy("Month")), ("quarter", gettext_lazy("Quarter"))],
        initial="month",
    )
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data

    def statistics_filter(self) -> StatisticsFilter:
        data = self.cleaned_data
        return StatisticsFilter(data["instrument"], data["period"], data["since"], data["until"])


def _statistics_form(request) -> StatisticsForm:
    data = (request.POST if request.method == "POST" else request.GET).copy()
    if "instrument" not in data:
        first = StatisticsForm.base_fields["instrument"].queryset.order_by("slug").first()
        if first is not None:
            data["instrument"] = first.slug
    data.setdefault("period", "month")
    return StatisticsForm(data)


@permission_required(VIEW_STATISTICS)
@require_GET
def statistics(request):
    form = _statistics_form(request)
    context = {"form": form, "tables": [], "alphas": [], "suppress_below": SUPPRESS_BELOW}
    if form.is_valid():
        flt = form.statistics_filter()
        definition = latest_definition(flt.instrument)
        context.update(
            {
                "instrument": flt.instrument,
                "tables": band_tables(request.user, flt, definition),
                "alphas": alpha_rows(request.user, flt),
                "export_filters": [
                    (name, form.data[name])
                    for name in ("instrument", "period", "since", "until")
                    if form.data.get(name)
                ],
            }
        )
        record_access(
            request,
            action=Action.VIEW,
            object_type="assessments.statistics",
            detail=flt.describe(),
        )
    return render(request, "assessments/admin/statistics.html", context)


@require_POST
@permission_required(VIEW_STATISTICS)
def statistics_export(request):
    """``format=csv`` (``table=bands`` or ``alpha``; UTF-8 with BOM for Excel) or ``xlsx``
    (both tables, one sheet each), with the page's filters. POST (a logged export is never
    triggered by a link or a prefetch); logged as an export."""
    form = _statistics_form(request)
    export_format = request.POST.get("format", "csv")
    table = request.POST.get("table", "bands")
    if not form.is_valid() or export_format not in ("csv", "xlsx") or table not in TABLES:
        return HttpResponseBadRequest(
            _("The statistics could not be exported: please check the filter."),
            content_type="text/plain; charset=utf-8",
        )
    flt = form.statistics_filter()
    definition = latest_definition(flt.instrument)
    sheets = {
        "bands": band_sheet(band_tables(request.user, flt, definition)),
        "alpha": alpha_sheet(alpha_rows(request.user, flt)),
    }
    record_access(
        request,
        action=Action.EXPORT,
        object_type="assessments.statistics",
        detail=f"{export_format} {flt.describe()}",
    )
    stem = f"statistics-{flt.instrument.slug}-{timezone.localdate():%Y%m%d}"
    if export_format == "xlsx":
        return attachment(workbook(sheets), XLSX_TYPE, f"{stem}.xlsx")
    return attachment(csv_text(sheets[table]), "text/csv; charset=utf-8", f"{stem}-{table}.csv")
