"""The participation reports as PDF: the monthly report of an office or of the bureau (one
file, or a zip of a PDF per office laid out in a few processes), and one person's history.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from itertools import repeat

import pandas as pd
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from reportlab.lib.units import mm

from lib.pdf import Footer, bar_chart, grid, line_chart, pdf_document, side_by_side, table
from participation import rollups
from participation.models import (
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
)
from participation.reports import (
    CHART_OFFICES,
    FIGURES,
    INCOMPLETE,
    MonthlyReport,
    Progress,
    category_labels,
    missing_templates,
    missing_text,
    month_label,
    no_progress,
    rate,
    rate_text,
    report_title,
    status_labels,
)
from participation.requirements import (
    QUOTA,
    STUDY_SOURCES,
    Entry,
    hours,
    month_start,
    month_status,
    requirement_labels,
    requirements_for,
    supervised_days,
)
from people.models import Person

# --- PDF --------------------------------------------------------------------------------------


def _summary(report: MonthlyReport) -> str:
    total = report.total
    return _(
        "%(persons)s persons under supervision; %(complete)s complete (%(rate)s): %(met)s met, "
        "%(excused)s excused; %(at_risk)s at risk; %(missed)s missed."
    ) % {
        **total,
        "complete": total["met"] + total["excused"],
        "rate": rate_text(rate(total["met"] + total["excused"], total["persons"])),
    }


def _figures_rows(frame: pd.DataFrame, label: str, heading: str) -> list[list[object]]:
    rows: list[list[object]] = [
        [heading, _("Persons"), _("Met"), _("Excused"), _("At risk"), _("Missed"), _("Rate")]
    ]
    columns = [frame[name].tolist() for name in (label, *FIGURES, "rate")]
    for *values, value in zip(*columns, strict=True):
        rows.append([*values, rate_text(value)])
    return rows


FIGURE_WIDTHS = [58 * mm, 18 * mm, 18 * mm, 18 * mm, 18 * mm, 18 * mm, 26 * mm]


def _charts(report: MonthlyReport) -> list[tuple[str, object]]:
    months = [f"{m:%m}" for m in report.trend["month"]] if not report.trend.empty else []
    rates = report.trend["rate"].tolist() if not report.trend.empty else []
    trend = line_chart(
        months,
        {report.office.name: [None if pd.isna(v) else v for v in rates]},
        title=_("Rate over the last %(count)s months (%%)") % {"count": len(months)},
        width=84 * mm if not report.is_bureau else 170 * mm,
        height=46 * mm,
    )
    if report.is_bureau:
        shown = report.offices.dropna(subset=["rate"])
        # xgettext:no-python-format
        title = _("Participation rate by office (%)")
        if len(shown) > CHART_OFFICES:
            shown = shown.nsmallest(CHART_OFFICES, "rate")
            title = _("The %(count)s offices with the lowest participation rate (%%)") % {
                "count": CHART_OFFICES
            }
        bars = bar_chart(list(shown["office"]), list(shown["rate"]), title=title, height=60 * mm)
        return [("flowable", bars), ("flowable", trend)]
    shown = [
        (label, value)
        for label, persons, value in zip(
            report.categories["label"].tolist(),
            report.categories["persons"].tolist(),
            report.categories["rate"].tolist(),
            strict=True,
        )
        if persons > 0
    ]
    bars = bar_chart(
        [label for label, _value in shown],
        [value for _label, value in shown],
        # xgettext:no-python-format
        title=_("Participation rate by category (%)"),
        width=84 * mm,
        height=46 * mm,
    )
    return [("flowable", side_by_side([bars, trend], [87 * mm, 87 * mm]))]


def _person_table_rows(report: MonthlyReport, with_office: bool) -> list[list[object]]:
    """The persons as the PDF lists them (with the office: only those not complete), from the
    columns as lists: ``person_frame``'s texts without building a frame for a dozen rows."""
    header = [
        _("Case number"),
        _("Name"),
        _("Category"),
        _("Status"),
        _("Study / quota (h)"),
        _("What is missing"),
    ]
    if with_office:
        header.insert(0, _("Office"))
    rows: list[list[object]] = [header]
    frame = report.persons
    if frame.empty:
        return rows
    statuses, categories, texts = status_labels(), category_labels(), missing_templates()
    columns = [
        frame[name].tolist()
        for name in ("office", "case_number", "name", "category", "status", "missing")
    ]
    # pandas' rounding, as in ``person_frame`` (it differs from round() on some halves).
    study = (frame["study_minutes"] / 60).round(1).tolist()
    quota = (frame["quota_minutes"] / 60).round(1).tolist()
    for office, case, name, category, status, missing, done, due in zip(
        *columns, study, quota, strict=True
    ):
        if with_office and status not in INCOMPLETE:
            continue
        row = [
            case,
            name,
            categories.get(category, category),
            statuses.get(status, status),
            f"{done:.1f} / {due:.1f}",
            missing_text(missing, texts),
        ]
        if with_office:
            row.insert(0, office)
        rows.append(row)
    return rows


def monthly_pdf(report: MonthlyReport, footer: Footer) -> bytes:
    """The report as PDF: summary, figures by office and category, charts, and the persons
    (an office: everyone; several offices: those not complete, the Excel file has everyone).
    Tables are ``lib.pdf.grid``s: drawn on the canvas, the page lays out several times faster
    than with platypus tables of paragraphs (a bureau prints a thousand of these at once)."""
    blocks: list[tuple[str, object]] = [("text", _summary(report))]
    if report.computed_at:
        blocks.append(
            (
                "small",
                _("Figures as computed at %(when)s.")
                % {"when": timezone.localtime(report.computed_at).strftime("%Y-%m-%d %H:%M")},
            )
        )
    if report.is_bureau:
        blocks += [
            ("heading", _("By office")),
            (
                "flowable",
                grid(_figures_rows(report.offices, "office", _("Office")), widths=FIGURE_WIDTHS),
            ),
        ]
    blocks += [
        ("heading", _("By supervision category")),
        (
            "flowable",
            grid(_figures_rows(report.categories, "label", _("Category")), widths=FIGURE_WIDTHS),
        ),
        *_charts(report),
    ]
    for extra in report.extra_figures:
        blocks.append(("heading", extra.title))
        if extra.is_empty:
            blocks.append(("text", extra.empty_text))
        else:
            widths = [24 * mm] + [25 * mm] * (len(extra.columns) - 1)
            blocks.append(
                (
                    "flowable",
                    grid([extra.columns, *extra.rows], widths=widths, wrap=range(len(widths))),
                )
            )
    rows = _person_table_rows(report, report.is_bureau)
    if report.is_bureau:
        blocks.append(("heading", _("Persons not yet complete")))
        widths = [22 * mm, 24 * mm, 16 * mm, 14 * mm, 14 * mm, 24 * mm, 60 * mm]
    else:
        blocks.append(("heading", _("Persons")))
        widths = [26 * mm, 20 * mm, 18 * mm, 14 * mm, 26 * mm, 70 * mm]
    if len(rows) == 1:
        blocks.append(("text", _("Nobody to list.")))
    else:
        # The office (bureau), "study / quota" (its header is wider than its values) and
        # what is missing break into lines.
        last = len(rows[0]) - 1
        wrap = {0, last - 1, last} if report.is_bureau else {last - 1, last}
        blocks.append(("flowable", grid(rows, widths=widths, wrap=wrap)))
    return pdf_document(report_title(report), blocks, footer=footer)


def _office_pdf(report: MonthlyReport, footer: Footer, language: str) -> bytes:
    with override(language):
        return monthly_pdf(report, replace(footer, label=report_title(report)))


def monthly_pdfs(
    batch: list[MonthlyReport],
    footer: Footer,
    workers: int = 1,
    progress: Progress = no_progress,
) -> Iterator[tuple[MonthlyReport, bytes]]:
    """Each report of ``batch`` (``monthly_reports``) as PDF, in order, its title as the
    footer's label. With ``workers`` > 1 the pages are laid out in that many forked processes
    (layout is pure CPU work on data already read; the workers touch no database)."""
    total = len(batch)
    language = get_language() or settings.LANGUAGE_CODE
    if workers <= 1 or total < 2 * workers:
        for done, report in enumerate(batch, start=1):
            yield report, _office_pdf(report, footer, language)
            progress(done, total)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        chunk = max(1, min(50, total // (workers * 4)))
        results = pool.map(_office_pdf, batch, repeat(footer), repeat(language), chunksize=chunk)
        for done, (report, content) in enumerate(zip(batch, results, strict=True), start=1):
            yield report, content
            progress(done, total)


def monthly_pdf_zip(
    batch: list[MonthlyReport],
    footer: Footer,
    workers: int = 1,
    progress: Progress = no_progress,
) -> bytes:
    """The PDF of every office of ``batch`` in one zip file, a file per office named by its
    code (PDFs are compressed already: stored as they are)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for report, content in monthly_pdfs(batch, footer, workers, progress):
            archive.writestr(f"{report.office.code}-{report.period:%Y-%m}.pdf", content)
    return buffer.getvalue()


# --- A person's participation history -------------------------------------------------------


def history_months(person: Person, today: dt.date) -> list[dt.date]:
    """Every month of the supervision up to this one, oldest first."""
    first = month_start(person.supervision_start)
    last = min(month_start(today), month_start(person.supervision_end))
    months = []
    while first <= last:
        months.append(first)
        first = rollups.next_month(first)
    return months


def _requirement_state(req, entries: list[Entry], missing: dict[str, object]) -> str:
    if req.key in missing:
        short = missing[req.key].minutes_short
        if short:
            return _("Missing (%(hours)s h short)") % {"hours": hours(short)}
        return _("Missing")
    if req.kind == QUOTA:
        study = sum(e.minutes for e in entries if e.source in STUDY_SOURCES)
        return _("Met") if study >= req.minutes else _("Excused")
    done = any(e.key == req.key and e.status == ParticipationStatus.COMPLETED for e in entries)
    return _("Met") if done else _("Excused")


def person_history_pdf(
    person: Person, footer: Footer, today: dt.date | None = None, progress=no_progress
) -> bytes:
    """Every month of ``person``'s supervision: status, each requirement and how it stands,
    study minutes against the quota, and the ledger rows by source (lessons, lectures,
    makeups, excused absences, courses). One ledger query; the requirements month by month."""
    today = today or timezone.localdate()
    months = history_months(person, today)
    ledger: dict[dt.date, list] = defaultdict(list)
    courses: list[Entry] = []
    for row in ParticipationRecord.objects.filter(person=person).order_by(
        "period", "source", "requirement_key"
    ):
        ledger[row.period].append(row)
        if row.source == ParticipationSource.COURSE:
            courses.append(Entry(row.requirement_key, row.source, row.status, 0, row.period))
    sources = dict(ParticipationSource.choices)
    # Rows stored without a title name what their key points to ("lesson:10" → its title).
    titles = requirement_labels(
        row.requirement_key for rows in ledger.values() for row in rows if not row.requirement
    )
    statuses = status_labels()
    summary = [[_("Month"), _("Status"), _("Met"), _("Excused"), _("Study / quota (h)")]]
    sections: list[tuple[str, object]] = []
    for number, period in enumerate(months, start=1):
        requirements = (
            requirements_for([person], period)[person.pk] if supervised_days(person, period) else []
        )
        entries = [
            Entry(r.requirement_key, r.source, r.status, r.minutes, r.period)
            for r in ledger.get(period, ())
        ] + [e for e in courses if e.period < period]
        result = month_status(requirements, entries, period=period, today=today)
        summary.append(
            [
                month_label(period),
                statuses[result.status],
                f"{result.met} / {result.required}",
                result.excused,
                f"{hours(result.study_minutes)} / {hours(result.quota_minutes)}",
            ]
        )
        missing = {m.key: m for m in result.missing}
        month_entries = [e for e in entries if e.period == period]
        sections.append(
            ("heading", f"{month_label(period)} · {statuses[result.status]}"),
        )
        if requirements:
            rows = [[_("Requirement"), _("Due"), _("How it stands")]]
            for req in sorted(requirements, key=lambda r: (r.due, r.key)):
                state = _requirement_state(req, month_entries, missing)
                rows.append([req.title, req.due.isoformat(), state])
            sections.append(
                ("flowable", table(rows, widths=[96 * mm, 24 * mm, 54 * mm], style="cell"))
            )
        else:
            sections.append(("small", _("No requirements this month.")))
        if ledger.get(period):
            rows = [[_("Source"), _("What"), _("Minutes"), _("Status")]]
            for row in ledger[period]:
                rows.append(
                    [
                        sources.get(row.source, row.source),
                        row.requirement or titles[row.requirement_key],
                        row.minutes,
                        row.get_status_display(),
                    ]
                )
            sections.append(
                (
                    "flowable",
                    table(rows, widths=[28 * mm, 102 * mm, 18 * mm, 26 * mm], style="cell"),
                )
            )
        else:
            sections.append(("small", _("Nothing recorded this month.")))
        progress(number, len(months) + 1)
    blocks: list[tuple[str, object]] = [
        (
            "text",
            _("%(name)s (%(case)s) · %(office)s · supervision %(start)s – %(end)s")
            % {
                "name": person.full_name,
                "case": person.case_number,
                "office": person.office.name,
                "start": person.supervision_start.isoformat(),
                "end": person.supervision_end.isoformat(),
            },
        ),
        ("heading", _("Month by month")),
        ("flowable", table(summary, wrap=False, style="cell")),
        *sections,
    ]
    if not months:
        blocks.append(("text", _("No month of supervision has begun yet.")))
    return pdf_document(_("Participation history"), blocks, footer=footer)
