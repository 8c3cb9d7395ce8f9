"""Staff views of assistance plans inside the Wagtail admin (registered in
``wagtail_hooks.py``). Thin callers of the lifecycle modules
(``plans.access``, ``drafting``, ``editing``, ``approval``, ``followup``).

Counselors see and edit the plans of their own caseload; officers see the plans of their
office's persons (levels, goals and progress, never questionnaire scores); administrators see
plans only with ``plans.view_bureau_plans`` and edit the rules with ``plans.change_planruleset``.
"""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import access_logged
from lib.admin_columns import ForgivingFiltersMixin, LinkColumn
from lib.downloads import attachment
from lib.parse import parse_id
from people.filters import office_filter
from people.models import Person
from plans.access import (
    access_person_for_plans,
    access_plan_for_user,
    is_own_counselor,
    may_edit_plan,
    may_see_results,
)
from plans.approval import do_approve_plan
from plans.change_text import history_entries
from plans.drafting import do_draft_plan, do_record_intake, do_revise_plan
from plans.editing import do_update_plan
from plans.errors import PlanError, StaleRevision
from plans.followup import do_add_note, do_close_plan, do_record_appointment, do_record_review
from plans.forms import (
    PARAMS,
    AppointmentForm,
    CloseForm,
    IntakeForm,
    NoteForm,
    PlanEditForm,
    RestoreRulesForm,
    ReviewForm,
    RuleCellForm,
    ThresholdsForm,
)
from plans.models import (
    VIEW_BUREAU_PLANS,
    CounselingAppointment,
    GoalStatus,
    IntakeFacts,
    Plan,
    PlanRuleSet,
    PlanStatus,
    plan_persons,
)
from plans.outcomes import appointments_for, describe_change, plan_outcomes
from plans.pdf import plan_pdf
from plans.presentation import describe_intervention, instrument_titles, need_rows
from plans.rules import (
    RuleSetError,
    RuleSetMissing,
    check_rules,
    current_rule_set,
    do_restore_rule_set,
    do_save_rule_set,
    signal_options,
    with_rule,
    with_thresholds,
)
from plans.schema import Domain, Level, PlanRulesDef

PAGE_SIZE = 50


def may_view_plans(user) -> bool:
    return user.has_perm("plans.view_plan") or user.has_perm(VIEW_BUREAU_PLANS)


def _require_viewer(request) -> None:
    if not may_view_plans(request.user):
        raise deny(request, "needs plans.view_plan or plans.view_bureau_plans")


def _require_editor(request) -> None:
    if not request.user.has_perm("plans.change_plan"):
        raise deny(request, f"{request.method} needs plans.change_plan")


def _plan_for_editor(request, pk: int) -> Plan:
    """The plan, for one of the person's own counselors (403 for anyone else who sees it)."""
    _require_editor(request)
    plan = access_plan_for_user(request.user, pk, request=request)
    if not may_edit_plan(request.user, plan):
        raise deny(request, "only the person's own counselors change a plan")
    return plan


# --- Lists and pages ----------------------------------------------------------------------------


def _plan_links(person) -> str:
    if not person.open_plans:
        return format_html('<span class="help">{}</span>', _("No plan yet"))
    return format_html_join(
        " · ",
        '<a href="{}" data-testid="plan-link-{}">{}</a>',
        (
            (
                reverse("plans_plan_detail", args=[plan.pk]),
                plan.pk,
                _("version %(v)s (%(status)s)")
                % {"v": plan.version, "status": plan.get_status_display()},
            )
            for plan in person.open_plans
        ),
    )


def _plan_words(person) -> str:
    return "、".join(
        _("version %(v)s (%(status)s)") % {"v": plan.version, "status": plan.get_status_display()}
        for plan in person.open_plans
    )


class PlanPersonFilterSet(WagtailFilterSet):
    """Plan state and the caller's own offices."""

    plan = django_filters.ChoiceFilter(
        label=_lazy("Plan"),
        choices=[("none", _lazy("No plan yet")), *PlanStatus.choices],
        method="filter_plan",
    )
    office = office_filter()

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_plan(self, queryset, name, value):
        current = Plan.objects.current()
        if value == "none":
            return queryset.exclude(pk__in=current.values("person_id"))
        return queryset.filter(pk__in=current.filter(status=value).values("person_id"))


class PlanListView(ForgivingFiltersMixin, generic.IndexView):
    """The active persons whose plans the caller sees (``plan_persons``), each with the
    current plans; search by name or case number, filters by plan state and office, ordering by
    column; the administrators' spreadsheet export is logged (``audit.wagtail_exports``)."""

    model = Person
    any_permission_required = None  # may_view_plans: checked in dispatch
    permission_policy = None
    index_url_name = "plans_plan_list"
    index_results_url_name = "plans_plan_list_results"
    results_template_name = "includes/index_results.html"
    page_title = _lazy("Assistance plans")
    header_icon = "tasks"
    paginate_by = PAGE_SIZE
    filterset_class = PlanPersonFilterSet
    search_fields = ["full_name", "case_number"]
    search_backend_name = None
    default_ordering = ("office__path", "case_number")
    columns = [
        LinkColumn(
            "case_number",
            label=_lazy("Case number"),
            sort_key="case_number",
            get_url=lambda person: reverse("plans_person", args=[person.pk]),
        ),
        LinkColumn(
            "full_name",
            label=_lazy("Name"),
            sort_key="full_name",
            get_url=lambda person: reverse("people_person_detail", args=[person.pk]),
            link_testid=lambda person: "person-link",
        ),
        Column("office", label=_lazy("Office"), sort_key="office__path"),
        Column("plan", label=_lazy("Plan"), accessor=_plan_links),
    ]
    list_export = ["case_number", "full_name", "office", "plan"]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "assistance-plans"

    def dispatch(self, request, *args, **kwargs):
        _require_viewer(request)
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return (
            plan_persons(self.request.user)
            .active()
            .select_related("office")
            .prefetch_related(
                Prefetch(
                    "plans",
                    queryset=Plan.objects.current().order_by("-version"),
                    to_attr="open_plans",
                )
            )
        )

    def order_queryset(self, queryset):
        ordering = self.ordering if isinstance(self.ordering, tuple) else (self.ordering,)
        return queryset.order_by(*ordering, "pk")

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "plan-list"}}

    def to_row_dict(self, item):
        return {
            "case_number": item.case_number,
            "full_name": item.full_name,
            "office": item.office.name,
            "plan": _plan_words(item) or _("No plan yet"),
        }

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


def person_plans(request, pk: int):
    _require_viewer(request)
    person = access_person_for_plans(request.user, pk, request=request)
    plans = list(person.plans.select_related("approved_by").order_by("-version"))
    intake = IntakeFacts.objects.latest_for(person)
    return render(
        request,
        "plans/admin/person_plans.html",
        {
            "person": person,
            "plans": plans,
            "intake": intake,
            "intake_count": person.intake_facts.count(),
            "can_record_intake": request.user.has_perm("plans.add_intakefacts"),
            "can_draft": request.user.has_perm("plans.change_plan")
            and is_own_counselor(request.user, person),
        },
    )


def plan_detail(request, pk: int):
    _require_viewer(request)
    plan = access_plan_for_user(request.user, pk, request=request)
    show_scores = may_see_results(request.user, plan.person)
    can_edit = request.user.has_perm("plans.change_plan") and may_edit_plan(request.user, plan)
    titles = instrument_titles()
    outcomes = plan_outcomes(plan, show_scores)
    goals = [
        {
            "goal": o.goal,
            "interventions": [
                {
                    "text": describe_intervention(
                        row.intervention, titles, name_instruments=show_scores
                    ),
                    "outcome": row,
                    "change": describe_change(row.retest.change)
                    if row.retest is not None and row.retest.change is not None
                    else "",
                }
                for row in o.interventions
            ],
        }
        for o in outcomes
    ]
    return render(
        request,
        "plans/admin/plan_detail.html",
        {
            "plan": plan,
            "person": plan.person,
            "needs": need_rows(plan, show_scores),
            "show_scores": show_scores,
            "goals": goals,
            # One outcome form per row, its ids prefixed by the appointment so every label
            # points at its own field; the field names stay those appointment_record reads.
            "appointments": [
                (a, AppointmentForm(auto_id=f"id_appointment_{a.pk}_%s"))
                for a in (appointments_for(plan) if can_edit else [])
            ],
            "reviews": list(plan.reviews.select_related("held_by")),
            "notes": list(plan.notes.select_related("author", "goal")[:50]),
            "history": history_entries(
                plan.changes.select_related("by")[:100],
                show_scores=show_scores,
                titles=titles,
                goals=dict(plan.goals.values_list("pk", "title")),
            ),
            "can_edit": can_edit,
            "note_form": NoteForm(plan=plan) if can_edit else None,
            "close_form": CloseForm() if can_edit else None,
            "versions": list(
                Plan.objects.filter(person=plan.person)
                .only("pk", "version", "status")
                .order_by("-version")
            ),
        },
    )


# --- Changing a plan --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    plan = _plan_for_editor(request, pk)
    if plan.status != PlanStatus.DRAFT:
        messages.error(
            request, _("Only a draft can be edited. Start a revision of the plan in force instead.")
        )
        return redirect("plans_plan_detail", pk=plan.pk)
    goals = list(plan.goals.prefetch_related("interventions__enrollments__course"))
    form = PlanEditForm(request.POST or None, plan=plan, goals=goals)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                do_update_plan(
                    plan,
                    form.changes(),
                    request.user,
                    form.cleaned_data["reason"],
                    form.cleaned_data["revision"],
                )
            except StaleRevision as exc:
                form.add_error(None, str(exc))
                status = 409
            except PlanError as exc:
                if exc.field in form.fields:
                    form.add_error(exc.field, str(exc))
                    form.add_error(None, _("The plan was not saved: see the marked field."))
                else:
                    form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, _("The plan was saved."))
                return redirect("plans_plan_detail", pk=plan.pk)
        else:
            if form.is_bound:  # an empty POST leaves the form unbound
                form.add_error(None, _("The plan was not saved: see the marked field."))
            status = 400
    titles = instrument_titles()
    return render(
        request,
        "plans/admin/plan_edit.html",
        {
            "plan": plan,
            "person": plan.person,
            "form": form,
            "rows": [
                {
                    **row,
                    "interventions": [
                        (describe_intervention(iv, titles), fields, remove)
                        for iv, fields, remove in row["interventions"]
                    ],
                }
                for row in form.goal_rows()
            ],
        },
        status=status,
    )


@require_POST
def plan_approve(request, pk: int):
    plan = _plan_for_editor(request, pk)
    revision = parse_id(request.POST.get("revision"))
    if revision is None:  # approve only what the counselor saw: the page sends its revision
        messages.error(request, _("Open the plan again, check it, then approve."))
        return redirect("plans_plan_detail", pk=plan.pk)
    try:
        report = do_approve_plan(plan, request.user, expected_revision=revision)
    except PlanError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The plan was approved and put in place."))
        for line in report.put_in_place:
            messages.info(request, line)
        for line in report.warnings:
            messages.warning(request, line)
    return redirect("plans_plan_detail", pk=plan.pk)


@require_POST
def plan_revise(request, pk: int):
    plan = _plan_for_editor(request, pk)
    try:
        draft = do_revise_plan(
            plan, request.user, request.POST.get("reason") or _("Revision started")
        )
    except PlanError as exc:
        messages.error(request, str(exc))
        return redirect("plans_plan_detail", pk=plan.pk)
    messages.success(request, _("A new draft version was started."))
    return redirect("plans_plan_edit", pk=draft.pk)


@require_http_methods(["GET", "POST"])
def plan_review(request, pk: int):
    plan = _plan_for_editor(request, pk)
    if plan.status != PlanStatus.APPROVED:
        messages.error(request, _("Only the plan in force can be reviewed."))
        return redirect("plans_plan_detail", pk=plan.pk)
    goals = list(plan.goals.filter(status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED]))
    form = ReviewForm(request.POST or None, plan=plan, goals=goals)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            decisions, met = form.decisions()
            try:
                _review, draft = do_record_review(
                    plan,
                    request.user,
                    decisions,
                    form.cleaned_data["notes"],
                    met,
                    expected_revision=form.cleaned_data["revision"],
                )
            except PlanError as exc:
                form.add_error(None, str(exc))
                status = 409 if isinstance(exc, StaleRevision) else 400
            else:
                messages.success(request, _("The review was recorded."))
                if draft is not None:
                    messages.info(request, _("A draft was started for the goals to adjust."))
                    return redirect("plans_plan_edit", pk=draft.pk)
                return redirect("plans_plan_detail", pk=plan.pk)
        else:
            status = 400
    return render(
        request,
        "plans/admin/plan_review.html",
        {"plan": plan, "person": plan.person, "form": form},
        status=status,
    )


@require_POST
def plan_note(request, pk: int):
    plan = _plan_for_editor(request, pk)
    form = NoteForm(request.POST, plan=plan)
    if form.is_valid():
        try:
            do_add_note(plan, request.user, form.cleaned_data["text"], form.cleaned_data["goal"])
        except PlanError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The note was added."))
    else:
        messages.error(request, _("The note is empty."))
    return redirect("plans_plan_detail", pk=plan.pk)


@require_POST
def plan_close(request, pk: int):
    plan = _plan_for_editor(request, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the plan is closed."))
        return redirect("plans_plan_detail", pk=plan.pk)
    try:
        do_close_plan(plan, request.user, form.cleaned_data["reason"])
    except PlanError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The plan was closed."))
    return redirect("plans_plan_detail", pk=plan.pk)


@require_POST
def appointment_record(request, pk: int):
    _require_editor(request)
    scoped = CounselingAppointment.objects.filter(
        person__in=plan_persons(request.user).values("pk")
    ).select_related("intervention__goal")
    appointment = access_logged(
        request, request.user, scoped, pk, person_field="person_id", action=Action.VIEW
    )
    form = AppointmentForm(request.POST)
    if form.is_valid():
        try:
            do_record_appointment(
                appointment, request.user, form.cleaned_data["status"], form.cleaned_data["note"]
            )
        except PlanError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The appointment was recorded."))
    else:
        messages.error(request, _("Choose attended, missed or cancelled."))
    if appointment.intervention is None:
        return redirect("plans_person", pk=appointment.person_id)
    return redirect("plans_plan_detail", pk=appointment.intervention.goal.plan_id)


@require_POST
def plan_pdf_view(request, pk: int):
    """The plan as PDF, logged as an export (POST: never triggered by a link or prefetch)."""
    _require_viewer(request)
    plan = access_plan_for_user(request.user, pk, request=request, action=Action.EXPORT)
    filename = f"plan-{plan.person.case_number}-v{plan.version}-{timezone.localdate():%Y%m%d}.pdf"
    return attachment(plan_pdf(plan), "application/pdf", filename)


# --- Intake and drafting ------------------------------------------------------------------------


@permission_required("plans.add_intakefacts")
@require_http_methods(["GET", "POST"])
def intake(request, pk: int):
    person = access_person_for_plans(request.user, pk, request=request)
    latest = IntakeFacts.objects.latest_for(person)
    form = IntakeForm(request.POST or None, initial=latest.as_dict() if latest else None)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "note"}
        try:
            do_record_intake(person, request.user, values, form.cleaned_data["note"])
        except PlanError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The intake facts were recorded; the plan draft was updated.")
            )
            return redirect("plans_person", pk=person.pk)
    return render(request, "plans/admin/intake.html", {"person": person, "form": form})


@require_POST
def draft_now(request, pk: int):
    _require_editor(request)
    person = access_person_for_plans(request.user, pk, request=request)
    if not is_own_counselor(request.user, person):
        raise deny(request, "only the person's own counselors draft a plan")
    try:
        plan = do_draft_plan(person, request.user, _("Drafted by the counselor"))
    except RuleSetMissing:
        messages.error(request, _("No plan rules are loaded yet. Ask an administrator."))
        return redirect("plans_person", pk=person.pk)
    if plan is None:
        messages.info(request, _("Nothing has changed since the plan in force was approved."))
        return redirect("plans_person", pk=person.pk)
    messages.success(request, _("The draft plan is ready to edit."))
    return redirect("plans_plan_detail", pk=plan.pk)


# --- Rules ----------------------------------------------------------------------------------------


SAVED = {
    "unchanged": _lazy("Nothing changed: the rules are the same as version %(v)s."),
    "updated": _lazy("Version %(v)s was updated (no plan has used it yet)."),
    "created": _lazy("Saved as version %(v)s; plans drafted from now on use it."),
}


def _cells(rules) -> list[dict]:
    """The overview: per need area, per level, what raises it and the goals suggested."""
    rows = []
    for domain in Domain:
        levels = []
        for level in Level:
            rule = rules.rule_for(domain, level) if rules else None
            signals = (
                [s for s in rules.signals.results if (s.domain, s.level) == (domain, level)]
                + [s for s in rules.signals.facts if (s.domain, s.level) == (domain, level)]
                if rules
                else []
            )
            language = translation.get_language()
            levels.append(
                {
                    "level": level,
                    "signals": len(signals),
                    "goals": [g.title.for_language(language) for g in rule.goals] if rule else [],
                }
            )
        rows.append({"domain": domain, "levels": levels})
    return rows


def _rules_overview(request, thresholds_form: ThresholdsForm | None = None, status: int = 200):
    current = PlanRuleSet.objects.current()
    parsed = PlanRulesDef.model_validate(current.rules) if current else None
    if thresholds_form is None and parsed is not None:
        thresholds_form = ThresholdsForm(rules=parsed)
    return render(
        request,
        "plans/admin/rules.html",
        {
            "current": current,
            "cells": _cells(parsed),
            "versions": list(
                PlanRuleSet.objects.select_related("created_by").order_by("-version")[:30]
            ),
            "restore_form": RestoreRulesForm(),
            "thresholds_form": thresholds_form,
        },
        status=status,
    )


@permission_required("plans.change_planruleset")
@require_GET
def rules(request):
    return _rules_overview(request)


@permission_required("plans.change_planruleset")
@require_POST
def rules_thresholds(request):
    """POST: the participation, quiz and intensity thresholds, with a note; saved as the rules'
    next version (or the current one while unused). Refused: the overview again, answered 400,
    with the form's errors, nothing saved."""
    try:
        _row, current = current_rule_set()
    except RuleSetMissing:
        messages.error(request, _("No plan rules are loaded yet."))
        return redirect("plans_rules")
    form = ThresholdsForm(request.POST)
    if form.is_valid():
        thresholds = form.thresholds()
        data = with_thresholds(
            current, thresholds["participation"], thresholds["quiz"], thresholds["intensity"]
        )
        try:
            row, outcome = do_save_rule_set(
                check_rules(data), request.user, form.cleaned_data["note"]
            )
        except RuleSetError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            messages.success(request, SAVED[outcome] % {"v": row.version})
            return redirect("plans_rules")
    return _rules_overview(request, form, status=400)


@permission_required("plans.change_planruleset")
@require_http_methods(["GET", "POST"])
def rules_cell(request, domain: str, level: str):
    if domain not in Domain.values or level not in Level.values:
        raise Http404("No such need area or level")
    try:
        current_row, current = current_rule_set()
    except RuleSetMissing:
        messages.error(request, _("No plan rules are loaded yet."))
        return redirect("plans_rules")
    options = signal_options(translation.get_language())
    form = RuleCellForm(
        request.POST or None, rules=current, domain=domain, level=level, options=options
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            rule, signals = form.cell()
            data = with_rule(current, domain, level, rule, signals)
            cells = [(r["domain"], r["level"]) for r in data["rules"]]
            position = cells.index((domain, level)) if (domain, level) in cells else None
            try:
                row, outcome = do_save_rule_set(
                    check_rules(data), request.user, form.cleaned_data["note"]
                )
            except RuleSetError as exc:
                if exc.errors:
                    form.place_errors(exc.errors, position)
                else:
                    for problem in exc.problems:
                        form.add_error(None, problem)
            else:
                messages.success(request, SAVED[outcome] % {"v": row.version})
                return redirect("plans_rules")
    return render(
        request,
        "plans/admin/rules_cell.html",
        {
            "form": form,
            "domain": Domain(domain),
            "level": Level(level),
            "current": current_row,
            "params": {kind: list(names) for kind, names in PARAMS.items()},
        },
        status=status,
    )


@permission_required("plans.change_planruleset")
@require_POST
def rules_restore(request, pk: int):
    earlier = get_object_or_404(PlanRuleSet, pk=pk)
    form = RestoreRulesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you go back to version %(v)s.") % {"v": earlier.version})
        return redirect("plans_rules")
    try:
        row, outcome = do_restore_rule_set(earlier, request.user, form.cleaned_data["note"])
    except RuleSetError as exc:
        for problem in exc.problems:
            messages.error(request, problem)
    else:
        messages.success(request, SAVED[outcome] % {"v": row.version})
    return redirect("plans_rules")
