"""Participation dashboards in the Wagtail admin (registered in ``wagtail_hooks.py``): the rate
of persons at 100 % by office, category and month; drill-down office → persons → what each one
is missing; a trend line and an office × month heatmap drawn as SVG on the server; and the
admin home panel "who is not yet at 100 % this month, and why".

Who: holders of ``people.view_office`` (officers: own office subtree; administrators: the
bureau), through ``participation.rollups``' scoped readers. Everything is read from the rollup
tables (``refresh_rollups`` keeps them current), in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from wagtail.admin.ui.components import Component

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access, record_denial
from lib.months import month_start
from lib.parse import parse_id
from participation import rollups
from participation.charts import Point, heatmap_svg, trend_svg
from participation.models import MonthStatus, PersonMonth
from participation.office_figures import office_figures
from participation.requirements import hours
from people.models import Category, Office, Person

VIEW_PERMISSION = "people.view_office"
PAGE_SIZE = 50
TREND_MONTHS = 12
FIGURE_MONTHS = 6  # the other apps' figures (office_figures): the month and the five before
HOME_PANEL_ROWS = 15


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _period(request) -> dt.date:
    """The month asked for (``?month=YYYY-MM``, default this month); never a future one."""
    this_month = month_start(timezone.localdate())
    value = request.GET.get("month", "").strip()
    if not value:
        return this_month
    try:
        period = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise BadRequest(_("Choose a month written like 2026-03.")) from None
    if period > this_month:
        raise BadRequest(_("That month has not started yet, so there are no figures for it."))
    return period


def _office(request, pk) -> Office:
    office = Office.objects.filter(pk=parse_id(pk) or 0).first()
    if office is None or not rollups.can_see_office(request.user, office):
        record_denial(request, f"participation dashboard of office {pk}")
        raise BadRequest(_("This office does not exist or is not yours to see."), status=404)
    return office


def _message(request, error: BadRequest):
    return render(
        request,
        "participation/dashboard/message.html",
        {"message": error.message},
        status=error.status,
    )


def _month_label(period: dt.date) -> str:
    return f"{period:%Y-%m}"


def _points(periods, figures) -> list[Point]:
    running = month_start(timezone.localdate())
    return [
        Point(_month_label(p), f.rate, f.complete, f.persons, in_progress=p == running)
        for p, f in zip(periods, figures, strict=True)
    ]


@dataclass
class MissingItem:
    kind: str
    title: str
    due: dt.date | None
    hours_short: object  # Decimal, quota only


def _day(value) -> dt.date | None:
    """A stored ``due`` (ISO text in the rollup's JSON) as a date; None when absent or not a
    date."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def missing_items(row: PersonMonth) -> list[MissingItem]:
    return [
        MissingItem(
            kind=item.get("kind", ""),
            title=item.get("title", ""),
            due=_day(item.get("due")),
            hours_short=hours(item["minutes_short"]) if item.get("minutes_short") else None,
        )
        for item in row.missing or []
    ]


def _month_choices(selected: dt.date) -> list[tuple[str, str, bool]]:
    return [
        (_month_label(p), date_format(p, "YEAR_MONTH_FORMAT"), p == selected)
        for p in reversed(rollups.last_months(timezone.localdate(), 24))
    ]


# --- Pages ----------------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION)
def overview(request):
    """Every office the user may see, with its rate this month (itself and with the offices
    below it), by category; the trend of the last 12 months and the office × month heatmap."""
    try:
        period = _period(request)
    except BadRequest as error:
        return _message(request, error)
    rows = rollups.office_month_rows(request.user, period)
    totals = rollups.subtree_totals(rows)
    months = rollups.last_months(period, TREND_MONTHS)
    trend = rollups.trend(request.user, months)
    grid = rollups.heatmap(request.user, months)
    overall = rollups.Figures()
    for row in rows:
        overall.add(row)
    computed = [row.computed_at for row in rows if row.computed_at]
    # The other apps' figures for the top offices the viewer sees (the bureau, or their office).
    roots: list = []
    for row in sorted(rows, key=lambda row: row.path):
        if not roots or not row.path.startswith(roots[-1].path):
            roots.append(row)
    top = list(Office.objects.filter(pk__in=[row.office_id for row in roots]).order_by("path"))
    extra = office_figures(request.user, top, rollups.last_months(period, FIGURE_MONTHS))
    return render(
        request,
        "participation/dashboard/overview.html",
        {
            "extra_figures": [(office, extra[office.pk]) for office in top],
            "period": period,
            "in_progress": period == month_start(timezone.localdate()),
            "months": _month_choices(period),
            "rows": [(row, totals[row.office_id]) for row in rows],
            "overall": overall,
            "categories": Category.choices,
            "computed_at": min(computed) if computed else None,
            "trend_svg": trend_svg(
                _points(months, trend),
                _("Participation rate by month"),
                no_data=_("no data"),
                in_progress=_("Month in progress"),
            ),
            "heatmap_svg": heatmap_svg(
                [(name, _points(months, cells)) for name, cells in grid],
                [_month_label(p) for p in months],
                _("Participation rate by office and month"),
                in_progress=_("Month in progress"),
            ),
        },
    )


@permission_required(VIEW_PERMISSION)
def office_detail(request, pk: int):
    """One office (with the offices below it): its figures by category, its trend, and its
    persons of the month with what each one is missing (optionally one status only)."""
    try:
        office = _office(request, pk)
        period = _period(request)
    except BadRequest as error:
        return _message(request, error)
    status = request.GET.get("status", "")
    if status not in MonthStatus.values:
        status = ""
    figures = rollups.Figures()
    by_category: dict[str, rollups.Figures] = {}
    for row in rollups.office_month_rows(request.user, period):
        if row.path.startswith(office.path):
            figures.add(row)
            for category, counts in row.by_category.items():
                by_category.setdefault(category, rollups.Figures()).add(counts)
    months = rollups.last_months(period, TREND_MONTHS)
    trend = rollups.trend(request.user, months, office=office)
    persons = rollups.person_month_rows(request.user, office, period, status or None)
    page = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("p"))
    extra = office_figures(request.user, [office], rollups.last_months(period, FIGURE_MONTHS))
    return render(
        request,
        "participation/dashboard/office.html",
        {
            "extra_figures": [(office, extra[office.pk])],
            "office": office,
            "period": period,
            "in_progress": period == month_start(timezone.localdate()),
            "months": _month_choices(period),
            "status": status,
            "statuses": MonthStatus.choices,
            "figures": figures,
            "by_category": [
                (label, by_category.get(value, rollups.Figures()))
                for value, label in Category.choices
            ],
            "trend_svg": trend_svg(
                _points(months, trend),
                _("Participation rate by month: %(office)s") % {"office": office.name},
                no_data=_("no data"),
                in_progress=_("Month in progress"),
            ),
            "page_obj": page,
            "rows": [(row, missing_items(row)) for row in page.object_list],
            "query": f"month={_month_label(period)}&status={status}",
        },
    )


@permission_required(VIEW_PERMISSION)
def person_detail(request, pk: int):
    """One person's last 12 months: status and exactly what is missing (logged: it shows a
    person's record)."""
    person = (
        Person.objects.visible_to(request.user)
        .filter(pk=parse_id(pk) or 0)
        .select_related("office")
        .first()
    )
    if person is None:
        record_denial(request, f"participation of person {pk}")
        return _message(
            request,
            BadRequest(_("This person does not exist or is not yours to see."), status=404),
        )
    record_access(
        request, action=Action.VIEW, obj=person, person_id=person.pk, detail="participation months"
    )
    months = rollups.last_months(timezone.localdate(), TREND_MONTHS)
    rows = PersonMonth.objects.filter(person=person, period__in=months).order_by("-period")
    return render(
        request,
        "participation/dashboard/person.html",
        {
            "person": person,
            "rows": [(row, missing_items(row)) for row in rows],
            "links": follow_up_links(person),
        },
    )


def _optional_url(name: str, *args) -> str | None:
    # Absence and follow-up pages are added by their own modules; link them once they exist.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def follow_up_links(person: Person | None = None) -> dict[str, str | None]:
    return {
        "absences": _optional_url("learning_absence_queue"),
        "file_absence": _optional_url("learning_absence_file", person.pk) if person else None,
        "follow_ups": _optional_url("learning_followup_list"),
    }


# --- The admin home panel -------------------------------------------------------------------


class NotYetCompletePanel(Component):
    """Admin home: who is not yet at 100 % this month, and why (officers)."""

    name = "participation_not_complete"
    template_name = "participation/dashboard/home_panel.html"
    order = 20

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        period = month_start(timezone.localdate())
        rows = rollups.at_risk_rows(self.user, period)
        shown = list(rows[:HOME_PANEL_ROWS])
        office = self.user.office if self.user.office_id else None
        return {
            "period": period,
            "rows": [(row, missing_items(row)) for row in shown],
            "total": rows.count() if len(shown) == HOME_PANEL_ROWS else len(shown),
            "office_url": reverse("learning_participation_office", args=[office.pk])
            if office
            else reverse("learning_participation"),
            "links": follow_up_links(),
        }


urlpatterns = [
    path("participation/", overview, name="learning_participation"),
    path("participation/offices/<int:pk>/", office_detail, name="learning_participation_office"),
    path("participation/persons/<int:pk>/", person_detail, name="learning_participation_person"),
]
