"""Official participation reports (issue #7): the monthly report of an office or of the bureau
as PDF and Excel, and one person's full participation history as PDF.

Monthly figures come from the rollups (``participation.rollups``: ``PersonMonth`` and
``OfficeMonth``, read through its scoped helpers), aggregated in SQL: a report loads its data
in a fixed number of queries whatever the number of offices or persons (the office tree, the
office-months, the trend, the person-months). ``monthly_reports`` reads the reports of every
office of a bureau in one go (its "a PDF per office" zip file), and ``monthly_pdfs`` lays
them out in a few processes. pandas only reshapes the rows and writes the Excel file (person
sheets through ``lib.xlsx.fast_rows``). A person's history reads the ledger
(``ParticipationRecord``) in one query and the requirements month by month.

Who: officers (own office subtree) and administrators (the bureau), i.e. the users for whom
``rollups.dashboard_offices`` lists the office; checked again when the report is built.
"""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from participation import rollups
from participation.models import (
    MonthStatus,
    OfficeMonth,
    PersonMonth,
)
from participation.office_figures import FigureTable, office_figures
from participation.requirements import (
    hours,
    month_start,
)
from people.models import Category, Office

PDF, XLSX, ZIP = "pdf", "xlsx", "zip"  # zip: a PDF per office
MONTHLY, HISTORY = "monthly", "history"
TREND_MONTHS = 6
CHART_OFFICES = 40  # a bar chart with more offices shows the lowest rates only
# Most urgent first: what the officer must act on heads every list.
STATUS_ORDER = {
    MonthStatus.MISSED: 0,
    MonthStatus.AT_RISK: 1,
    MonthStatus.EXCUSED: 2,
    MonthStatus.MET: 3,
}
INCOMPLETE = (MonthStatus.MISSED, MonthStatus.AT_RISK)

Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    return None


class ReportError(ValueError):
    """A report that cannot be made; the message is shown to the user as it is."""


def check_period(period: dt.date, today: dt.date | None = None) -> dt.date:
    """The month's first day; a month that has not begun has no figures."""
    today = today or timezone.localdate()
    period = month_start(period)
    if period > month_start(today):
        raise ReportError(_("There are no figures yet for a month that has not begun."))
    return period


def access_report_office(user, office_id: int) -> Office:
    """The office if ``user`` may have its reports, else ``ReportError``."""
    office = rollups.dashboard_offices(user).filter(pk=office_id).first()
    if office is None:
        raise ReportError(_("You can only request reports for your own offices."))
    return office


def month_label(period: dt.date) -> str:
    return date_format(period, "YEAR_MONTH_FORMAT")


def rate(complete: int, persons: int) -> float | None:
    return round(complete * 100 / persons, 1) if persons else None


def rate_text(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1f}%"


def missing_text(missing: list, texts: tuple[str, str] | None = None) -> str:
    """What is still missing, from ``PersonMonth.missing`` (``rollups._missing_json``).
    ``texts``: the two templates from ``missing_templates()``, translated once per report."""
    short_text, due_text = texts or missing_templates()
    parts = []
    for item in missing or ():
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        text = str(item.get("title", ""))
        short = int(item.get("minutes_short") or 0)
        if short:
            text += short_text % {"hours": hours(short)}
        elif item.get("due"):
            text += due_text % {"due": str(item["due"])[5:]}
        parts.append(text)
    return "；".join(parts)


def missing_templates() -> tuple[str, str]:
    return _(" (%(hours)s h short)"), _(" (due %(due)s)")


# --- The monthly report's data --------------------------------------------------------------

FIGURES = ("persons", "met", "excused", "at_risk", "missed")


@dataclass
class MonthlyReport:
    office: Office
    period: dt.date
    offices: pd.DataFrame  # one row per office of the subtree with persons (incl. below it)
    categories: pd.DataFrame  # one row per supervision category
    trend: pd.DataFrame  # month, persons, complete, rate
    persons: pd.DataFrame  # one row per person-month
    computed_at: dt.datetime | None
    # Other apps' figures (``office_figures``: video roll-calls), a row per trend month.
    extra_figures: list[FigureTable] = field(default_factory=list)

    @property
    def total(self) -> dict[str, int]:
        return {name: int(self.categories[name].sum()) for name in FIGURES}

    @property
    def is_bureau(self) -> bool:
        """Several offices: the report compares them and lists only who is not complete."""
        return len(self.offices) > 1


def _office_rows(office: Office, period: dt.date) -> list[rollups.OfficeFigures]:
    """``period``'s office-months of ``office``'s subtree, by office (tree order) and
    category: two queries, whatever the size of the rest of the tree."""
    out = {
        o["pk"]: rollups.OfficeFigures(
            office_id=o["pk"], name=o["name"], path=o["path"], depth=o["depth"]
        )
        for o in Office.objects.filter(path__startswith=office.path).values(
            "pk", "name", "path", "depth"
        )
    }
    for row in OfficeMonth.objects.filter(
        period=month_start(period), office__path__startswith=office.path
    ).values("office_id", "category", "persons", "computed_at", *rollups.STATUS_FIELDS):
        figures = out[row["office_id"]]
        category = rollups.Figures(
            persons=row["persons"], **{s: row[s] for s in rollups.STATUS_FIELDS}
        )
        figures.by_category[row["category"]] = category
        figures.add(category)
        if figures.computed_at is None or row["computed_at"] < figures.computed_at:
            figures.computed_at = row["computed_at"]
    return sorted(out.values(), key=lambda f: f.path)


def _subtree_totals(rows: list[rollups.OfficeFigures]) -> dict[int, rollups.Figures]:
    """Each office's figures with every office below it: each row is added to its ancestors
    (materialised paths: every ``steplen`` characters is one level)."""
    by_path = {row.path: row.office_id for row in rows}
    totals = {row.office_id: rollups.Figures() for row in rows}
    step = Office.steplen
    for row in rows:
        for end in range(step, len(row.path) + 1, step):
            ancestor = by_path.get(row.path[:end])
            if ancestor is not None:
                totals[ancestor].add(row)
    return totals


# The person-month columns a report reads, and their names in ``MonthlyReport.persons``.
PERSON_FIELDS = (
    "office__name",
    "office__path",
    "person__case_number",
    "person__full_name",
    "category",
    "status",
    "required",
    "met",
    "excused",
    "study_minutes",
    "quota_minutes",
)
PERSON_COLUMNS = [
    "office",
    "path",
    "case_number",
    "name",
    "category",
    "status",
    "required",
    "met",
    "excused",
    "study_minutes",
    "quota_minutes",
    "missing",
]


def _person_month_rows(months) -> list[tuple]:
    """``months`` (a ``PersonMonth`` queryset) as tuples of ``PERSON_COLUMNS`` (and the office
    id first). ``missing`` is read as JSON text and decoded once per distinct value: a month's
    missing items repeat from person to person, and decoding 100,000 values one by one was a
    large part of a bureau's Excel file."""
    decoded: dict[object, list] = {}
    out = []
    for *values, missing in months.order_by().values_list(
        "office_id", *PERSON_FIELDS, Cast("missing", TextField())
    ):
        items = decoded.get(missing)
        if items is None:
            items = decoded[missing] = json.loads(missing) if missing else []
        out.append((*values, items))
    return out


def _persons_frame(rows: list[tuple]) -> pd.DataFrame:
    """``_person_month_rows`` as ``MonthlyReport.persons``: by office (tree order), most
    urgent first, then by case number. An office's subtree is one run of these rows."""
    order = [STATUS_ORDER.get(row[6], 9) for row in rows]
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i][2], order[i], rows[i][3]))
    persons = pd.DataFrame.from_records(
        [rows[i][1:] for i in ranked], columns=PERSON_COLUMNS, nrows=len(rows)
    )
    if rows:
        persons["order"] = [order[i] for i in ranked]
    return persons


def _assemble(
    office: Office,
    period: dt.date,
    rows: list[rollups.OfficeFigures],
    trend: list[rollups.Figures],
    persons: pd.DataFrame,
) -> MonthlyReport:
    """The report of ``office`` from its subtree's office-months (``rows``, tree order), its
    trend (a figure per month of ``rollups.last_months(period, TREND_MONTHS)``) and its
    person-months (``_persons_frame``): one report or each of a batch, the same way. Frames
    are built from columns: pandas costs ~1 ms a frame, which counts in a batch of 1,000."""
    totals = _subtree_totals(rows)
    # Offices that hold persons directly (a bureau with none of its own is left out).
    listed = [row for row in rows if row.persons] or rows[:1]
    figures = {name: [getattr(totals[row.office_id], name) for row in listed] for name in FIGURES}
    offices = pd.DataFrame(
        {
            "office_id": [row.office_id for row in listed],
            "office": [row.name for row in listed],
            "path": [row.path for row in listed],
            **figures,
            "rate": _rates(figures),
        },
        columns=["office_id", "office", "path", *FIGURES, "rate"],
    )
    by_category: dict[str, dict[str, int]] = {c: dict.fromkeys(FIGURES, 0) for c in Category}
    for row in rows:
        for category, counts in row.by_category.items():
            for name in FIGURES:
                by_category.setdefault(category, dict.fromkeys(FIGURES, 0))[name] += getattr(
                    counts, name
                )
    figures = {name: [f[name] for f in by_category.values()] for name in FIGURES}
    categories = pd.DataFrame(
        {
            "category": list(by_category),
            "label": [str(Category(c).label) for c in by_category],
            **figures,
            "rate": _rates(figures),
        },
        columns=["category", "label", *FIGURES, "rate"],
    )
    trend_frame = pd.DataFrame(
        {
            "month": rollups.last_months(period, TREND_MONTHS),
            "persons": [f.persons for f in trend],
            "complete": [f.complete for f in trend],
            "rate": [f.rate for f in trend],
        }
    )
    computed = [row.computed_at for row in rows if row.computed_at is not None]
    return MonthlyReport(
        office=office,
        period=period,
        offices=offices,
        categories=categories,
        trend=trend_frame,
        persons=persons,
        computed_at=min(computed) if computed else None,
    )


def _rates(figures: dict[str, list[int]]) -> list[float | None]:
    return [
        rate(m + e, p)
        for m, e, p in zip(figures["met"], figures["excused"], figures["persons"], strict=True)
    ]


def monthly_report(user, office: Office, period: dt.date) -> MonthlyReport:
    """Everything the monthly report of ``office`` (and the offices below it) shows, in five
    queries: offices, office-months, trend, person-months (and the scope check), and those of
    the registered ``office_figures`` (rollcall: two)."""
    if not rollups.can_see_office(user, office):
        raise ReportError(_("You can only request reports for your own offices."))
    period = month_start(period)
    rows = _office_rows(office, period)
    trend = rollups.trend(user, rollups.last_months(period, TREND_MONTHS), office)
    # The offices' ids, not a join on their paths: SQLite then reads the (office, period) index.
    persons = _person_month_rows(
        PersonMonth.objects.filter(period=period, office_id__in=[row.office_id for row in rows])
    )
    report = _assemble(office, period, rows, trend, _persons_frame(persons))
    months = rollups.last_months(period, TREND_MONTHS)
    report.extra_figures = office_figures(user, [office], months)[office.pk]
    return report


def monthly_reports(user, root: Office, period: dt.date) -> list[MonthlyReport]:
    """The monthly report of every office under ``root`` (and ``root``) that holds persons
    itself, in tree order: the bureau's "every office" file. Each is what ``monthly_report``
    gives for that office, read in six queries for all of them (scope, offices, office-months,
    the trend by office, person-months, and the registered ``office_figures``' own: rollcall's
    two) instead of five per office."""
    if not rollups.can_see_office(user, root):
        raise ReportError(_("You can only request reports for your own offices."))
    period = month_start(period)
    instances = {o.pk: o for o in Office.objects.filter(path__startswith=root.path)}
    rows = _office_rows(root, period)
    months = rollups.last_months(period, TREND_MONTHS)
    # Every office's own figures per month, added below to the office and its ancestors.
    by_month: dict[int, dict[dt.date, rollups.Figures]] = defaultdict(dict)
    for row in (
        OfficeMonth.objects.filter(period__in=months, office__path__startswith=root.path)
        .order_by()
        .values("office_id", "period")
        .annotate(persons=Sum("persons"), **{s: Sum(s) for s in rollups.STATUS_FIELDS})
    ):
        by_month[row["office_id"]][row["period"]] = rollups.Figures(
            **{k: row[k] or 0 for k in ("persons", *rollups.STATUS_FIELDS)}
        )
    persons = _persons_frame(
        _person_month_rows(
            PersonMonth.objects.filter(period=period, office__path__startswith=root.path)
        )
    )
    # Sorted by path first: each office's subtree is one run of rows.
    paths = persons["path"].tolist()
    out = []
    for index, row in enumerate(rows):
        if not row.persons:
            continue
        # Tree order: an office's subtree is the run of rows after it under its path.
        end = index + 1
        while end < len(rows) and rows[end].path.startswith(row.path):
            end += 1
        subtree = rows[index:end]
        trend = []
        for month in months:
            figures = rollups.Figures()
            for other in subtree:
                found = by_month[other.office_id].get(month)
                if found is not None:
                    figures.add(found)
            trend.append(figures)
        first = bisect_left(paths, row.path)
        last = bisect_left(paths, row.path + "\uffff", lo=first)
        people = persons.iloc[first:last].reset_index(drop=True) if last > first else None
        if people is None:
            people = _persons_frame([])
        out.append(_assemble(instances[row.office_id], period, subtree, trend, people))
    extra = office_figures(user, [report.office for report in out], months)
    for report in out:
        report.extra_figures = extra[report.office.pk]
    return out


def status_labels() -> dict[str, str]:
    return {value: str(label) for value, label in MonthStatus.choices}


def category_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Category.choices}


def _missing_texts() -> Callable[[list], str]:
    """``missing_text`` once per distinct list: rows read by ``_person_month_rows`` share the
    list of their JSON text (the object, alive as long as the frame: its id is its key)."""
    texts = missing_templates()
    done: dict[int, str] = {}

    def text(missing: list) -> str:
        found = done.get(id(missing))
        if found is None:
            found = done[id(missing)] = missing_text(missing, texts)
        return found

    return text


def person_frame(report: MonthlyReport) -> pd.DataFrame:
    """The person rows as they are shown: labels, hours and what is missing as text."""
    frame = report.persons
    if frame.empty:
        return frame.assign(study_hours=[], quota_hours=[], missing_text=[])
    return frame.assign(
        category=frame["category"].map(category_labels()).fillna(frame["category"]),
        status_label=frame["status"].map(status_labels()).fillna(frame["status"]),
        study_hours=(frame["study_minutes"] / 60).round(1),
        quota_hours=(frame["quota_minutes"] / 60).round(1),
        missing_text=frame["missing"].map(_missing_texts()),
    )


def report_title(report: MonthlyReport) -> str:
    return _("%(office)s: participation report for %(month)s") % {
        "office": report.office.name,
        "month": month_label(report.period),
    }
