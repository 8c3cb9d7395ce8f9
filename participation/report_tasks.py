"""Reports prepared in the background (django-tasks): a ``ReportFile`` row is the request and
its progress; ``prepare_report`` builds the file and stores it in private storage.

With the default immediate backend the task runs inside the request that asked for it; with
``TASKS_BACKEND=database`` a ``db_worker`` process runs it and the page polls its progress.
A failing report ends as ``failed`` with a readable message, never as an error page.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import task

from lib.pdf import Footer
from participation import report_pdf, report_xlsx, reports
from participation.models import ReportFile, ReportStatus
from people.models import Office, Person

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    reports.PDF: "application/pdf",
    reports.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    reports.ZIP: "application/zip",
}
# Processes that lay out the PDFs of a bureau's "every office" file (``report_pdf.monthly_pdfs``):
# one per core, the task being the only heavy work of its worker while it runs.
PDF_WORKERS = min(2, os.cpu_count() or 1)
# Progress is written at most this often (one UPDATE each).
PROGRESS_EVERY = dt.timedelta(seconds=0.5)


def do_request_report(user, kind: str, params: dict) -> ReportFile:
    """Store the request and start the task. Call with validated ``params``: monthly
    ``{"office": pk, "period": "YYYY-MM", "format": "pdf"|"xlsx"}``, history ``{"person": pk}``.
    If the task cannot even be queued, the request ends as failed (and says so)."""
    report = ReportFile.objects.create(
        kind=kind, params=params, requested_by=user, requested_at=timezone.now()
    )
    try:
        prepare_report.enqueue(report.pk)
    except Exception:
        logger.exception("report %s could not be queued", report.pk)
        _fail(report.pk, _("The report could not be started. Please try again later."))
    report.refresh_from_db()
    return report


@task()
def prepare_report(report_id: int) -> str:
    """Build the file of ``ReportFile`` ``report_id``; returns its final status."""
    report = ReportFile.objects.select_related("requested_by").filter(pk=report_id).first()
    if report is None or report.status in (ReportStatus.READY, ReportStatus.FAILED):
        return report.status if report else "gone"
    # A worker has no request: reports are written in the site's language.
    with override(settings.LANGUAGE_CODE):
        try:
            build(report)
        except reports.ReportError as error:
            _fail(report.pk, str(error))
        except Exception:
            logger.exception("report %s failed", report.pk)
            _fail(
                report.pk,
                _(
                    "Sorry, the report could not be prepared. Please try again; if it happens "
                    "again, tell the administrator."
                ),
            )
    return ReportFile.objects.values_list("status", flat=True).get(pk=report.pk)


def _fail(report_id: int, message: str) -> None:
    ReportFile.objects.filter(pk=report_id).update(
        status=ReportStatus.FAILED, error=message[:300], finished_at=timezone.now()
    )


class _Progress:
    """Writes ``progress``/``total`` to the row, at most every ``PROGRESS_EVERY``."""

    def __init__(self, report_id: int):
        self.report_id = report_id
        self.last = None

    def __call__(self, done: int, total: int, force: bool = False) -> None:
        now = timezone.now()
        if force or self.last is None or now - self.last >= PROGRESS_EVERY:
            ReportFile.objects.filter(pk=self.report_id).update(progress=done, total=total)
            self.last = now


def build(report: ReportFile) -> None:
    """Run the report described by ``report.params`` as its requester, and store the file.
    The requester's scope is checked again here: it may have changed since the request."""
    user = report.requested_by
    progress = _Progress(report.pk)
    ReportFile.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, total=1)
    footer = Footer(generated_by=user.name or user.get_username(), generated_at=timezone.now())
    params = report.params
    if report.kind == reports.MONTHLY:
        office = reports.access_report_office(user, int(params["office"]))
        period = reports.check_period(dt.date.fromisoformat(f"{params['period']}-01"))
        fmt = params["format"]
        if fmt != reports.ZIP:
            data = reports.monthly_report(user, office, period)
            footer = Footer(footer.generated_by, footer.generated_at, reports.report_title(data))
        if fmt == reports.XLSX:
            content = report_xlsx.monthly_xlsx(data, footer, progress)
        elif fmt == reports.PDF:
            progress(0, 1, force=True)
            content = report_pdf.monthly_pdf(data, footer)
        elif fmt == reports.ZIP:
            batch = reports.monthly_reports(user, office, period)
            if not batch:
                raise reports.ReportError(_("No office has figures for this month."))
            progress(0, len(batch), force=True)
            content = report_pdf.monthly_pdf_zip(batch, footer, PDF_WORKERS, progress)
        else:
            raise reports.ReportError(_("Choose PDF or Excel."))
        filename = f"participation-{office.code}-{period:%Y-%m}.{fmt}"
    elif report.kind == reports.HISTORY:
        person = (
            Person.objects.visible_to(user)
            .select_related("office")
            .filter(pk=params.get("person"))
            .first()
        )
        if person is None:
            raise reports.ReportError(_("This person is not among the persons you look after."))
        fmt = reports.PDF
        content = report_pdf.person_history_pdf(person, footer, progress=progress)
        filename = f"participation-history-{person.pk}-{timezone.localdate():%Y%m%d}.pdf"
    else:
        raise reports.ReportError(_("This kind of report does not exist."))
    report.file.save(filename, ContentFile(content), save=False)
    ReportFile.objects.filter(pk=report.pk).update(
        file=report.file.name,
        filename=filename,
        status=ReportStatus.READY,
        progress=1,
        total=1,
        finished_at=timezone.now(),
    )


def report_office(report: ReportFile) -> Office | None:
    """The office of a monthly report (for the download's scope check)."""
    if report.kind != reports.MONTHLY:
        return None
    return Office.objects.filter(pk=report.params.get("office")).first()
