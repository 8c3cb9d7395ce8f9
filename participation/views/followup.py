"""Follow-up in the Wagtail admin (registered in ``wagtail_hooks.py``).

* "People to follow up" (``/admin/learning/follow-up/``): officers and administrators see the
  open follow-ups of the persons in their scope (``Person.objects.visible_to``): person,
  requirement, what is missing, since when, and who has the task. A follow-up's page shows
  every step and lets the officer record what they did. Everyone else is refused (logged).
* "Reminder texts" and "Follow-up policy": administrators edit them (Wagtail viewsets).
The work itself is in ``participation.followup``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
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
from participation.models import FollowUpPolicy, FollowUpStage, FollowUpStep, ReminderTemplate
from participation.reminders import check_template, reminder_templates
from participation.requirements import requirement_labels

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


def followup_list(request):
    """GET: the follow-ups of the caller's scope; ``show`` = tasks (default) | open | resolved,
    ``mine=1`` only the caller's own tasks."""
    _refuse_unless_allowed(request)
    show = request.GET.get("show", "tasks")
    if show not in SHOW_STAGES:
        show = "tasks"
    mine = request.GET.get("mine") == "1"
    rows = (
        follow_ups_visible_to(request.user)
        .filter(stage__in=SHOW_STAGES[show])
        .select_related("person__office", "officer")
        .annotate(missing_text=_latest_missing())
        .order_by("opened_at", "pk")
    )
    if mine:
        rows = rows.filter(officer=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("p"))
    labels = dict(Resolution.choices)
    titles = requirement_labels(row.requirement_key for row in page if not row.requirement)
    for row in page:
        row.resolution_label = labels.get(row.resolution, row.resolution)
        row.requirement_label = row.requirement or titles[row.requirement_key]
    return render(
        request,
        "participation/followup/list.html",
        {
            "page_obj": page,
            "show": show,
            "mine": mine,
            "show_choices": SHOW_CHOICES,
            "filters": urlencode({"show": show, "mine": "1" if mine else ""}),
        },
    )


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
    path("learning/follow-up/", followup_list, name="learning_followup_list"),
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
