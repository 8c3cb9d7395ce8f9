"""The staff "Reports" page in the Wagtail admin (registered in ``wagtail_hooks.py``): request
a monthly participation report (an office or the bureau, a month, PDF or Excel) or a person's
participation history, follow its progress, download it when ready.

Who: holders of ``people.view_office`` (officers and administrators); each report only for
the offices ``rollups.dashboard_offices`` gives them. A report's page, progress and file are
its requester's alone (anyone else gets 404); every download is logged.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access, record_denial
from lib.months import month_start
from lib.parse import parse_id
from participation import reports, rollups
from participation.models import ReportFile, ReportStatus
from participation.report_tasks import CONTENT_TYPES, do_request_report, report_office
from people.models import Office, Person

REPORT_PERMISSION = "people.view_office"
RECENT = 20
FORMATS = [
    (reports.PDF, _("PDF")),
    (reports.XLSX, _("Excel")),
    (reports.ZIP, _("A PDF per office (zip)")),
]


class MonthlyReportForm(forms.Form):
    office = forms.IntegerField(label=_("Office"), widget=forms.Select)
    month = forms.CharField(
        label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}), max_length=7
    )
    format = forms.ChoiceField(
        label=_("File format"),
        choices=FORMATS,
        error_messages={"invalid_choice": _("Choose PDF or Excel.")},
    )

    def __init__(self, data=None, *, request):
        # Last month by default: the one a monthly report is usually wanted for, and closed.
        last = rollups.previous_month(month_start(timezone.localdate()))
        super().__init__(data, initial={"month": f"{last:%Y-%m}"})
        self.request = request
        self.offices = list(rollups.dashboard_offices(request.user))
        self.fields["office"].widget.choices = [(o.pk, o.name) for o in self.offices]

    def clean_office(self) -> Office:
        pk = self.cleaned_data["office"]
        office = next((o for o in self.offices if o.pk == pk), None)
        if office is None:
            if Office.objects.filter(pk=pk).exists():
                record_denial(self.request, f"report for office {pk}")
            raise forms.ValidationError(_("You can only request reports for your own offices."))
        return office

    def clean_month(self) -> dt.date:
        try:
            period = dt.date.fromisoformat(f"{self.cleaned_data['month']}-01")
        except ValueError:
            raise forms.ValidationError(_("Enter a month such as 2026-10.")) from None
        try:
            return reports.check_period(period)
        except reports.ReportError as error:
            raise forms.ValidationError(str(error)) from None

    def params(self) -> dict:
        data = self.cleaned_data
        return {
            "office": data["office"].pk,
            "period": f"{data['month']:%Y-%m}",
            "format": data["format"],
        }


class HistoryForm(forms.Form):
    case_number = forms.CharField(label=_("Case number"), max_length=40)

    def __init__(self, data=None, *, request):
        super().__init__(data)
        self.request = request

    def clean_case_number(self) -> Person:
        number = self.cleaned_data["case_number"].strip()
        person = Person.objects.visible_to(self.request.user).filter(case_number=number).first()
        if person is None:
            raise forms.ValidationError(
                _("Nobody with this case number is among the persons you look after.")
            )
        return person


def _index(request, monthly=None, history=None, status=200):
    recent = list(ReportFile.objects.filter(requested_by=request.user)[:RECENT])
    names = _office_names(recent)
    return render(
        request,
        "participation/reports/index.html",
        {
            "monthly": monthly or MonthlyReportForm(request=request),
            "history": history or HistoryForm(request=request),
            "reports": [(report, describe(report, names)) for report in recent],
        },
        status=status,
    )


@permission_required(REPORT_PERMISSION)
def report_index(request):
    return _index(request)


@require_POST
@permission_required(REPORT_PERMISSION)
def request_monthly(request):
    """Validate, store the request, start the task and show its page. Bad input: the page
    again with the reasons (400), nothing stored."""
    form = MonthlyReportForm(request.POST, request=request)
    if not form.is_valid():
        return _index(request, monthly=form, status=400)
    report = do_request_report(request.user, reports.MONTHLY, form.params())
    return redirect("learning_report", pk=report.pk)


@require_POST
@permission_required(REPORT_PERMISSION)
def request_history(request):
    form = HistoryForm(request.POST, request=request)
    if not form.is_valid():
        return _index(request, history=form, status=400)
    person = form.cleaned_data["case_number"]
    record_access(
        request,
        action=Action.VIEW,
        obj=person,
        person_id=person.pk,
        detail="participation history requested",
    )
    report = do_request_report(request.user, reports.HISTORY, {"person": person.pk})
    return redirect("learning_report", pk=report.pk)


def _get_report(request, pk) -> ReportFile:
    """The user's own report; anyone else's (or none) answers 404."""
    report = ReportFile.objects.filter(pk=parse_id(pk) or 0, requested_by=request.user).first()
    if report is None:
        raise Http404("No such report")
    return report


def _office_names(recent: list[ReportFile]) -> dict[int, str]:
    wanted = {r.params.get("office") for r in recent if r.kind == reports.MONTHLY}
    return dict(Office.objects.filter(pk__in=wanted - {None}).values_list("pk", "name"))


def describe(report: ReportFile, names: dict[int, str]) -> str:
    params = report.params or {}
    if report.kind == reports.MONTHLY:
        return _("%(office)s, %(month)s, %(format)s") % {
            "office": names.get(params.get("office"), "—"),
            "month": params.get("period", ""),
            "format": str(params.get("format", "")).upper(),
        }
    return _("Participation history (PDF)")


def status_data(report: ReportFile) -> dict:
    percent = 100 if report.status == ReportStatus.READY else 0
    if report.status == ReportStatus.RUNNING and report.total:
        percent = min(99, report.progress * 100 // report.total)
    return {
        "status": report.status,
        "label": str(report.get_status_display()),
        "progress": report.progress,
        "total": report.total,
        "percent": percent,
        "error": report.error,
        "ready": report.status == ReportStatus.READY,
        "download": reverse("learning_report_download", args=[report.pk]),
    }


@permission_required(REPORT_PERMISSION)
def report_detail(request, pk: int):
    report = _get_report(request, pk)
    return render(
        request,
        "participation/reports/detail.html",
        {
            "report": report,
            "description": describe(report, _office_names([report])),
            "state": status_data(report),
        },
    )


@permission_required(REPORT_PERMISSION)
def report_status(request, pk: int):
    """Progress as JSON, polled by the report's page."""
    return JsonResponse(status_data(_get_report(request, pk)))


@require_POST
@permission_required(REPORT_PERMISSION)
def report_download(request, pk: int):
    """The file, to its requester only, from private storage; logged. POST, like every
    export of personal data (never triggered by a link or a prefetch)."""
    report = _get_report(request, pk)
    if report.status != ReportStatus.READY or not report.file:
        raise Http404("Report not ready")
    office = report_office(report)
    if office is not None and not rollups.can_see_office(request.user, office):
        record_denial(request, f"report {report.pk}: office no longer in scope")
        raise Http404("No such report")
    try:
        handle = report.file.open("rb")
    except OSError:
        raise Http404("Report file missing") from None
    record_access(
        request, action=Action.EXPORT, obj=report, detail=f"{report.kind} {report.filename}"
    )
    fmt = report.filename.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=report.filename,
        content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
    )
    response["Cache-Control"] = "no-store"
    return response


PREFIX = "participation-reports/"
urlpatterns = [
    path(PREFIX, report_index, name="learning_reports"),
    path(f"{PREFIX}monthly/", request_monthly, name="learning_report_monthly"),
    path(f"{PREFIX}history/", request_history, name="learning_report_history"),
    path(f"{PREFIX}<int:pk>/", report_detail, name="learning_report"),
    path(f"{PREFIX}<int:pk>/status/", report_status, name="learning_report_status"),
    path(f"{PREFIX}<int:pk>/download/", report_download, name="learning_report_download"),
]
