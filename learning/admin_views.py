"""Staff study-progress reports in the Wagtail admin (registered in ``wagtail_hooks.py``).

Who: officers, counselors and administrators, i.e. holders of ``people.view_person``; each
sees only the persons ``Person.objects.active().visible_to`` gives them. Lecturers and
editors author content and see no person's progress: they are refused (the refusal is
logged). Exports are POST and logged with their row count; page views are not logged, like
the person list.
The queries are in ``learning.progress``; these views parse filters and render or export.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access
from courses.models import CoursePage
from learning import progress
from learning.progress import (
    BEHIND_BELOW_PERCENT,
    COURSE_COLUMNS,
    NEAR_DAYS,
    OFFICE_COLUMNS,
    CourseFilters,
    OfficeFilters,
    QuotaStatus,
    Status,
)
from lib.downloads import attachment, csv_text, xlsx_bytes
from lib.months import month_start
from lib.parse import parse_id
from people.models import Category, Office

VIEW_PERMISSION = "people.view_person"
PAGE_SIZE = 50
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = [("csv", _("CSV")), ("xlsx", _("Excel"))]
# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection).


# --- Filters --------------------------------------------------------------------------------


def _all(choices) -> list[tuple[str, str]]:
    return [("", _("All")), *choices]


class CourseFilterForm(forms.Form):
    office = forms.ModelChoiceField(
        label=_("Office"), queryset=Office.objects.none(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), choices=_all(Status.choices), required=False)
    category = forms.ChoiceField(
        label=_("Category"), choices=_all(Category.choices), required=False
    )

    def __init__(self, data, *, user):
        super().__init__(data)
        self.fields["office"].queryset = Office.objects.visible_to(user)

    def filters(self) -> CourseFilters:
        """The valid filters; an invalid one is left out (and shown with its error)."""
        self.is_valid()
        data = self.cleaned_data
        return CourseFilters(
            office=data.get("office"),
            status=data.get("status") or "",
            category=data.get("category") or "",
        )


MONTHS_BACK = 24


def recent_months(today: dt.date, count: int = MONTHS_BACK) -> list[dt.date]:
    """The first days of this month and the ``count - 1`` months before it, newest first."""
    months = [month_start(today)]
    while len(months) < count:
        months.append(month_start(months[-1] - dt.timedelta(days=1)))
    return months


class OfficeFilterForm(forms.Form):
    month = forms.TypedChoiceField(
        label=_("Month"),
        required=False,
        coerce=lambda value: dt.date.fromisoformat(f"{value}-01"),
        empty_value=None,
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=_all(Category.choices), required=False
    )
    quota = forms.ChoiceField(label=_("Quota"), choices=_all(QuotaStatus.choices), required=False)

    def __init__(self, data):
        super().__init__(data)
        months = recent_months(timezone.localdate())
        self.fields["month"].choices = [
            ("", _("This month")),
            *((f"{m:%Y-%m}", date_format(m, "YEAR_MONTH_FORMAT")) for m in months[1:]),
        ]

    def filters(self) -> OfficeFilters:
        """The valid filters; an invalid one is left out (and shown with its error)."""
        self.is_valid()
        data = self.cleaned_data
        return OfficeFilters(
            period=data.get("month"),
            category=data.get("category") or "",
            quota=data.get("quota") or "",
        )


class ExportMixin(forms.Form):
    format = forms.ChoiceField(label=_("File format"), choices=FORMATS)


class CourseExportForm(ExportMixin, CourseFilterForm):
    pass


class OfficeExportForm(ExportMixin, OfficeFilterForm):
    pass


def _chosen(form: forms.Form) -> dict[str, str]:
    """The valid, non-empty filter values, as they go into links and the export form."""
    form.is_valid()
    values = {}
    for name, value in form.cleaned_data.items():
        if value in (None, ""):
            continue
        if isinstance(value, Office):
            value = value.pk
        elif isinstance(value, dt.date):
            value = f"{value:%Y-%m}"
        values[name] = str(value)
    return values


# --- Lookups --------------------------------------------------------------------------------


def _get_course(pk) -> CoursePage:
    course = CoursePage.objects.filter(pk=parse_id(pk) or 0).first()
    if course is None:
        raise Http404("No such course")
    return course


def _get_office(user, pk) -> Office:
    """An office ``user`` may see; any other answers 404 (existence is never revealed)."""
    office = Office.objects.visible_to(user).filter(pk=parse_id(pk) or 0).first()
    if office is None:
        raise Http404("No such office")
    return office


def _page_query(request) -> str:
    query = request.GET.copy()
    query.pop("p", None)
    return query.urlencode()


# --- Pages ----------------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION)
def progress_index(request):
    return render(
        request,
        "learning/admin/progress_index.html",
        {
            "courses": progress.courses_overview(request.user),
            "offices": Office.objects.visible_to(request.user),
        },
    )


@permission_required(VIEW_PERMISSION)
def course_progress(request, pk: int):
    course = _get_course(pk)
    form = CourseFilterForm(request.GET, user=request.user)
    enrollments = progress.course_enrollments(request.user, course, form.filters())
    page = Paginator(enrollments, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "learning/admin/progress_course.html",
        {
            "course": course,
            "form": form,
            "page_obj": page,
            "rows": list(progress.course_rows(page.object_list, course)),
            "query": _page_query(request),
            "export_values": _chosen(form),
            "formats": FORMATS,
            "near_days": NEAR_DAYS,
            "behind_below": BEHIND_BELOW_PERCENT,
        },
    )


@permission_required(VIEW_PERMISSION)
def office_progress(request, pk: int):
    office = _get_office(request.user, pk)
    form = OfficeFilterForm(request.GET)
    filters = form.filters()
    period = filters.period or month_start(timezone.localdate())
    persons = progress.office_persons(request.user, office, filters)
    page = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "learning/admin/progress_office.html",
        {
            "office": office,
            "period": period,
            "form": form,
            "page_obj": page,
            "rows": progress.office_rows(page.object_list, period),
            "columns": OFFICE_COLUMNS,
            "query": _page_query(request),
            "export_values": _chosen(form),
            "formats": FORMATS,
        },
    )


# --- Exports --------------------------------------------------------------------------------


def _csv_text(value) -> str:
    if isinstance(value, dt.timedelta):
        return progress.format_duration(int(value.total_seconds()))
    if isinstance(value, dt.date):
        return value.isoformat()
    # numbers stay numbers: a negative one is no formula (``csv_text`` guards the text)
    return value if isinstance(value, int | float) else str(value)


def to_csv(columns, rows) -> str:
    """UTF-8 text with a byte-order mark, so that Excel reads the Chinese correctly."""
    header = [str(column.title) for column in columns]
    return csv_text(
        [header, *([_csv_text(column.value(row)) for column in columns] for row in rows)]
    )


def to_xlsx(columns, rows) -> bytes:
    """The same table as ``to_csv`` through the one formula-safe Excel writer; durations and
    dates keep their type."""
    header = [str(column.title) for column in columns]
    table = [header, *([column.value(row) for column in columns] for row in rows)]
    return xlsx_bytes({gettext("Study progress"): table})


def _bad_export(request, form: forms.Form):
    """Refuse an export whose filters are wrong: 400 with the reasons, nothing exported."""
    return render(request, "learning/admin/progress_export_error.html", {"form": form}, status=400)


def _export(request, form: forms.Form, columns, rows: list, obj, stem: str):
    fmt = form.cleaned_data["format"]
    chosen = _chosen(form)
    chosen.pop("format", None)
    filters = " ".join(f"{key}={value}" for key, value in sorted(chosen.items()))
    record_access(
        request,
        action=Action.EXPORT,
        obj=obj,
        detail=f"study progress {fmt}, {len(rows)} rows {filters}".strip(),
    )
    filename = f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        return attachment(to_xlsx(columns, rows), XLSX, filename)
    return attachment(to_csv(columns, rows), CSV, filename)


@require_POST
@permission_required(VIEW_PERMISSION)
def course_progress_export(request, pk: int):
    """The per-course table with the same filters, every page, as CSV or Excel.

    POST only (a logged, sensitive action must not be triggered by a link or a prefetch);
    the export and its row count go to the access log."""
    course = _get_course(pk)
    form = CourseExportForm(request.POST, user=request.user)
    if not form.is_valid():
        return _bad_export(request, form)
    enrollments = progress.course_enrollments(request.user, course, form.filters())
    rows = list(progress.course_rows(enrollments, course))
    return _export(request, form, COURSE_COLUMNS, rows, course, f"study-progress-course-{pk}")


@require_POST
@permission_required(VIEW_PERMISSION)
def office_progress_export(request, pk: int):
    """The per-office table with the same filters, every page, as CSV or Excel (POST, logged)."""
    office = _get_office(request.user, pk)
    form = OfficeExportForm(request.POST)
    if not form.is_valid():
        return _bad_export(request, form)
    filters = form.filters()
    period = filters.period or month_start(timezone.localdate())
    persons = progress.office_persons(request.user, office, filters)
    rows = progress.office_rows(persons, period, among=persons)
    return _export(
        request, form, OFFICE_COLUMNS, rows, office, f"study-progress-office-{pk}-{period:%Y%m}"
    )


urlpatterns = [
    path("progress/", progress_index, name="learning_progress"),
    path("progress/courses/<int:pk>/", course_progress, name="learning_progress_course"),
    path(
        "progress/courses/<int:pk>/export/",
        course_progress_export,
        name="learning_progress_course_export",
    ),
    path("progress/offices/<int:pk>/", office_progress, name="learning_progress_office"),
    path(
        "progress/offices/<int:pk>/export/",
        office_progress_export,
        name="learning_progress_office_export",
    ),
]
