"""Follow-up in the Wagtail admin (registered in ``wagtail_hooks.py``).

* "People to follow up" (``/admin/learning/follow-up/``): officers and administrators see the
  open follow-ups of the persons in their scope (``Person.objects.visible_to``): person,
  requirement, what is missing, since when, and who has the task. A follow-up's page shows
  every step and lets the officer record what they did. Everyone else is refused (logged).
* "Reminder texts" and "Follow-up policy": administrators edit them (Wagtail viewsets).
The work itself is in ``participation.followup``.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
from lib.admin_columns import (
    ForgivingFiltersMixin,
    IdentifiedRowsTable,
    PlainDateColumn,
    person_columns,
)
from lib.parse import parse_id
from participation.followup import (
    NOTE_MAX,
    OPEN_STAGES,
    STEP_LABELS,
    TASK_STAGES,
    OfficerAction,
    Resolution,
    can_follow_up,
    do_record_action,
    follow_ups_visible_to,
)
from participation.models import (
    FollowUp,
    FollowUpPolicy,
    FollowUpStage,
    FollowUpStep,
    ReminderTemplate,
)
from participation.reminders import check_template, reminder_templates
from participation.requirements import requirement_labels
from people.filters import office_filter

PAGE_SIZE = 50

SHOW_CHOICES = [
    ("tasks", gettext_lazy("With the officer or administrator")),
    ("open", gettext_lazy("All open")),
    ("resolved", gettext_lazy("Resolved")),
]
SHOW_STAGES = {
    "tasks": TASK_STAGES,
    "open": OPEN_STAGES,
    "resolved": (FollowUpStage.RESOLVED,),
}


def _refuse_unless_allowed(request) -> None:
    if not can_follow_up(request.user):
        raise deny(request, "follow-up: officers and administrators only")


def _latest_missing():
    """What is missing, as the latest step that said so (opened, reminded, task) put it."""
    steps = (
        FollowUpStep.objects.filter(follow_up=OuterRef("pk"), detail__has_key="missing")
        .order_by("-at", "-pk")
        .annotate(missing_text=KT("detail__missing"))
        .values("missing_text")[:1]
    )
    return Subquery(steps)


class FollowUpFilterSet(WagtailFilterSet):
    """``show`` = tasks (the default, also for a value not understood) | open | resolved;
    ``mine=1`` only the caller's own tasks; ``office`` one of the caller's offices."""

    show = django_filters.ChoiceFilter(
        label=gettext_lazy("Show"), choices=SHOW_CHOICES, method="filter_show", empty_label=None
    )
    mine = django_filters.ChoiceFilter(
        label=gettext_lazy("Whose tasks"),
        choices=[("1", gettext_lazy("Only my tasks"))],
        empty_label=gettext_lazy("Everyone's"),
        method="filter_mine",
    )
    office = office_filter(field_name="person__office")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_show(self, queryset, name, value):
        return queryset.filter(stage__in=SHOW_STAGES[value])

    def filter_mine(self, queryset, name, value):
        return queryset.filter(officer=self.request.user)


def _detail_url(row) -> str:
    return reverse("learning_followup_detail", args=[row.pk])


def _stage(row) -> str:
    stage = row.get_stage_display()
    return f"{stage}（{row.resolution_label}）" if row.resolution_label else stage


def _act_by(row) -> str:
    if row.officer_acted_at:
        acted = date_format(timezone.localtime(row.officer_acted_at), "Y-m-d")
        return _("Acted %(date)s") % {"date": acted}
    return date_format(row.officer_due, "Y-m-d") if row.officer_due else ""


def _officer(row) -> str:
    return row.officer.get_full_name() if row.officer_id else ""


class FollowUpTable(IdentifiedRowsTable):
    row_prefix = "followup"


class FollowUpIndexView(ForgivingFiltersMixin, generic.IndexView):
    """The follow-ups of the caller's scope (``follow_ups_visible_to``): what is missing, since
    when and who has the task; search by name or case number, filters, ordering by column; the
    administrators' spreadsheet export is logged (``audit.wagtail_exports``)."""

    model = FollowUp
    any_permission_required = None  # officers and administrators: checked in dispatch
    permission_policy = None
    index_url_name = "learning_followup_list"
    index_results_url_name = "learning_followup_list_results"
    page_title = gettext_lazy("People to follow up")
    header_icon = "warning"
    paginate_by = PAGE_SIZE
    filterset_class = FollowUpFilterSet
    table_class = FollowUpTable
    search_fields = ["person__full_name", "person__case_number"]
    search_backend_name = None
    default_ordering = "opened_at"
    columns = [
        *person_columns(),
        TitleColumn(
            "requirement",
            label=gettext_lazy("Requirement"),
            accessor="requirement_label",
            get_url=_detail_url,
        ),
        Column(
            "period",
            label=gettext_lazy("Month"),
            accessor=lambda row: f"{row.period:%Y-%m}",
            sort_key="period",
        ),
        Column("missing", label=gettext_lazy("What is missing"), accessor="missing_text"),
        PlainDateColumn("opened_at", label=gettext_lazy("Since")),
        Column("stage", label=gettext_lazy("Stage"), accessor=_stage, sort_key="stage"),
        Column("officer", label=gettext_lazy("Case officer"), accessor=_officer),
        Column(
            "act_by",
            label=gettext_lazy("Officer to act by"),
            accessor=_act_by,
            sort_key="officer_due",
        ),
    ]
    list_export = [
        "person",
        "case_number",
        "office",
        "requirement",
        "period",
        "missing",
        "opened_at",
        "stage",
        "officer",
        "act_by",
    ]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "follow-ups"

    def dispatch(self, request, *args, **kwargs):
        _refuse_unless_allowed(request)
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return (
            follow_ups_visible_to(self.request.user)
            .select_related("person__office", "officer")
            .annotate(missing_text=_latest_missing())
        )

    results_template_name = "includes/index_results.html"

    def filter_queryset(self, queryset):
        # "show" has a default (the tasks): with no value, or none understood, it still applies
        if not (
            self.filters and self.filters.is_valid() and self.filters.form.cleaned_data["show"]
        ):
            queryset = queryset.filter(stage__in=TASK_STAGES)
        return super().filter_queryset(queryset)

    def order_queryset(self, queryset):
        return super().order_queryset(queryset).order_by(self.ordering, "pk")

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, others = super().paginate_queryset(queryset, page_size)
        page.object_list = _labelled(page.object_list)
        return paginator, page, page.object_list, others

    def to_row_dict(self, item):
        return {column.name: column.get_value(item) for column in self.columns}

    def as_spreadsheet(self, queryset, spreadsheet_format):
        return super().as_spreadsheet(_labelled(queryset), spreadsheet_format)

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No follow-up matches. Clear the search or choose “All open” to see more.")
        return _("Nobody needs following up right now.")

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["no_results_testid"] = "no-followups"
        return context


def _labelled(rows) -> list[FollowUp]:
    """The rows with their requirement's title and how they ended, in two queries at most."""
    rows = list(rows)
    labels = dict(Resolution.choices)
    titles = requirement_labels(row.requirement_key for row in rows if not row.requirement)
    for row in rows:
        row.resolution_label = labels.get(row.resolution, row.resolution)
        row.requirement_label = row.requirement or titles[row.requirement_key]
    return rows


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("What did you do?"), choices=OfficerAction.choices
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@require_http_methods(["GET", "POST"])
def followup_detail(request, pk):
    """GET: one follow-up with every step (logged view of the person's record). POST: the
    officer records an action (``action`` + ``note``); a bad form re-shows with errors."""
    _refuse_unless_allowed(request)
    pk = parse_id(pk)
    follow_up = (
        follow_ups_visible_to(request.user)
        .select_related("person__office", "officer")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if follow_up is None:
        raise Http404(_("No such follow-up in your scope."))
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_record_action(
                follow_up,
                request.user,
                action=form.cleaned_data["action"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            record_access(
                request,
                action=Action.CHANGE,
                obj=follow_up,
                person_id=follow_up.person_id,
                detail=f"follow-up action {form.cleaned_data['action']}",
            )
            messages.success(request, _("Thank you. What you did has been recorded."))
            return redirect("learning_followup_list")
    if request.method == "GET":
        record_access(request, action=Action.VIEW, obj=follow_up, person_id=follow_up.person_id)
    steps = list(follow_up.steps.select_related("actor").order_by("at", "pk"))
    for step in steps:
        step.label = STEP_LABELS.get(step.kind, step.kind)
    requirement = follow_up.requirement or requirement_labels([follow_up.requirement_key]).get(
        follow_up.requirement_key, ""
    )
    return render(
        request,
        "participation/followup/detail.html",
        {
            "follow_up": follow_up,
            "requirement": requirement,
            "steps": steps,
            "form": form,
            "is_open": follow_up.stage != FollowUpStage.RESOLVED,
            "resolution": dict(Resolution.choices).get(follow_up.resolution, ""),
        },
    )


urlpatterns = [
    path("learning/follow-up/", FollowUpIndexView.as_view(), name="learning_followup_list"),
    path(
        "learning/follow-up/results/",
        FollowUpIndexView.as_view(results_only=True),
        name="learning_followup_list_results",
    ),
    path("learning/follow-up/<int:pk>/", followup_detail, name="learning_followup_detail"),
]


# --- Reminder texts and the policy (administrators) ------------------------------------------


class ReminderTemplateForm(WagtailAdminModelForm):
    class Meta:
        model = ReminderTemplate
        fields = ["kind", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def clean_title(self):
        title = self.cleaned_data["title"]
        check_template(title)
        return title

    def clean_body(self):
        body = self.cleaned_data["body"]
        check_template(body)
        return body


class UpdatedByMixin:
    """Records who saved the row last."""

    def save_instance(self):
        self.form.instance.updated_by = self.request.user
        return super().save_instance()


class ReminderTemplateIndexView(generic.IndexView):
    def get_base_queryset(self):
        reminder_templates()  # the defaults appear on first visit
        return super().get_base_queryset()


class ReminderTemplateCreateView(UpdatedByMixin, generic.CreateView):
    pass


class ReminderTemplateEditView(UpdatedByMixin, generic.EditView):
    pass


class ReminderTemplateViewSet(ModelViewSet):
    model = ReminderTemplate
    form_class = ReminderTemplateForm
    index_view_class = ReminderTemplateIndexView
    add_view_class = ReminderTemplateCreateView
    edit_view_class = ReminderTemplateEditView
    list_display = ["kind", "title", "updated_at", "updated_by"]
    icon = "mail"
    menu_label = gettext_lazy("Reminder texts")
    menu_name = "reminder-texts"
    add_to_admin_menu = True
    menu_order = 335
    name = "reminder_texts"
    url_prefix = "reminder-texts"
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return ReminderTemplateForm


class FollowUpPolicyForm(WagtailAdminModelForm):
    """Bounds keep the follow-up sensible: a month has at most 31 days."""

    class Meta:
        model = FollowUpPolicy
        fields = ["at_risk_days_left", "officer_after_days", "administrator_after_days"]

    def clean(self):
        cleaned = super().clean()
        limits = {"at_risk_days_left": 31, "officer_after_days": 60, "administrator_after_days": 60}
        for name, limit in limits.items():
            value = cleaned.get(name)
            if value is not None and value > limit:
                self.add_error(name, _("Please choose at most %(limit)s days.") % {"limit": limit})
        return cleaned


class FollowUpPolicyCreateView(UpdatedByMixin, generic.CreateView):
    pass


class FollowUpPolicyEditView(UpdatedByMixin, generic.EditView):
    pass


class FollowUpPolicyViewSet(ModelViewSet):
    model = FollowUpPolicy
    form_class = FollowUpPolicyForm
    add_view_class = FollowUpPolicyCreateView
    edit_view_class = FollowUpPolicyEditView
    list_display = [
        "at_risk_days_left",
        "officer_after_days",
        "administrator_after_days",
        "updated_at",
        "updated_by",
    ]
    ordering = ["-updated_at", "-pk"]
    icon = "cog"
    menu_label = gettext_lazy("Follow-up policy")
    menu_name = "follow-up-policy"
    add_to_admin_menu = True
    menu_order = 336
    name = "follow_up_policy"
    url_prefix = "follow-up-policy"
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return self.form_class
