"""Excused absences: the person's pages (``/learning/absences/``, phone-sized) and the staff
queue in the Wagtail admin (``/admin/absences/``, registered in ``wagtail_hooks.py``).
Thin callers of ``participation.absences``.

Who: the person files, follows and withdraws their own requests; officers and
administrators see, file and decide the requests of the persons they see. Counselors,
lecturers and editors are refused (logged). Evidence files are served only here, never from
``MEDIA_URL``, and every look at one is logged.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from audit.decorators import deny
from audit.models import Action
from audit.services import access_logged, record_access
from lib.admin_columns import ForgivingFiltersMixin, PlainDateColumn, person_columns
from participation import absences
from participation.absences import AbsenceError
from participation.models import AbsenceRequest, AbsenceStatus
from people.filters import office_filter
from people.models import Person
from people.privacy import person_of

PAGE_SIZE = 50
EVIDENCE_TYPES = ",".join(absences.EXTENSIONS)


# --- Forms ----------------------------------------------------------------------------------


class AbsenceForm(forms.Form):
    """Parses the request; ``participation.absences.do_file_absence`` checks it (so a hand-made
    POST gets the same clear messages as the page)."""

    requirement = forms.CharField(label=gettext_lazy("What do you need leave for?"), max_length=80)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=absences.MAX_TEXT,
        help_text=gettext_lazy("A few words are enough, for example: “in hospital”."),
    )
    evidence = forms.FileField(
        label=gettext_lazy("Evidence (optional)"),
        required=False,
        allow_empty_file=True,
        max_length=200,
        help_text=gettext_lazy("A photo or PDF, for example a doctor's note. At most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_TYPES}),
    )

    def __init__(self, *args, options: list[absences.Option], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("Please choose"))] + [(o.value, o.label) for o in options]
        self.fields["requirement"].widget = forms.Select(choices=choices)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the person"),
        required=False,
        max_length=absences.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Needed when you reject: say kindly why and what to do instead."),
    )
    makeup = forms.BooleanField(
        label=gettext_lazy("Give a makeup for the missed lecture"),
        required=False,
        initial=True,
    )


def _initial_choice(options: list[absences.Option], key: str) -> str:
    """The option for ``?requirement=lecture:7`` (the newest month first), or nothing."""
    for option in options:
        if option.requirement.key == key:
            return option.value
    return ""


def _file(request, person: Person, form: AbsenceForm) -> AbsenceRequest | None:
    """File from a valid form; on AbsenceError the message goes on the form."""
    try:
        period, key = absences.parse_option(form.cleaned_data["requirement"])
        return absences.do_file_absence(
            person,
            period=period,
            requirement_key=key,
            reason=form.cleaned_data["reason"],
            evidence=form.cleaned_data.get("evidence") or None,
            by=request.user,
            request=request,
        )
    except AbsenceError as error:
        form.add_error(None, str(error))
    return None


def _evidence_response(absence: AbsenceRequest, handle, download: bool) -> FileResponse:
    content_type = absence.evidence_type or "application/octet-stream"
    extension = absences.EXTENSIONS.get(content_type, "bin")
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download,
        filename=f"evidence-{absence.pk}.{extension}",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Shown on its own, an uploaded file may run nothing and load nothing.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response


# --- The person's pages ---------------------------------------------------------------------


def _person(request) -> Person:
    person = person_of(request.user)
    if person is None:
        raise Http404("Only supervised persons ask for leave here")
    return person


@login_required
def my_absences(request):
    person = _person(request)
    rows = list(absences.own_requests(request.user).select_related("decided_by")[:PAGE_SIZE])
    for row in rows:
        row.label = absences.requirement_text(row)
    return render(
        request,
        "participation/absence/mine.html",
        {"person": person, "absences": rows, "can_file": bool(absences.open_options(person))},
    )


@login_required
def file_absence(request):
    person = _person(request)
    options = absences.open_options(person)
    if request.method == "POST":
        form = AbsenceForm(request.POST, request.FILES, options=options)
        if form.is_valid() and _file(request, person, form) is not None:
            messages.success(
                request,
                _("Your request has been sent. Your case officer will answer soon."),
            )
            return redirect("learning_absences")
    else:
        key = request.GET.get("requirement", "")[:80]
        form = AbsenceForm(options=options, initial={"requirement": _initial_choice(options, key)})
    return render(
        request,
        "participation/absence/file.html",
        {"form": form, "options": options, "staff": False},
    )


@require_POST
@login_required
def withdraw_absence(request, pk: int):
    absence = absences.access_own_request(request.user, pk)
    try:
        absences.do_withdraw_absence(absence, by=request.user, request=request)
    except AbsenceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your request has been withdrawn."))
    return redirect("learning_absences")


@login_required
def my_evidence(request, pk: int):
    absence = absences.access_own_request(request.user, pk)
    handle = absences.open_evidence(absence, user=request.user, request=request)
    return _evidence_response(absence, handle, download="download" in request.GET)


urlpatterns = [
    path("absences/", my_absences, name="learning_absences"),
    path("absences/new/", file_absence, name="learning_absence_new"),
    path("absences/<int:pk>/withdraw/", withdraw_absence, name="learning_absence_withdraw"),
    path("absences/<int:pk>/evidence/", my_evidence, name="learning_absence_evidence"),
]


# --- Staff: the queue in the Wagtail admin --------------------------------------------------


def _require_handler(request) -> None:
    if not absences.may_handle(request.user):
        raise deny(request, "absence requests: officers and administrators only")


def _handled(request, pk: int) -> AbsenceRequest:
    _require_handler(request)
    try:
        return absences.access_for_handler(request.user, pk, request=request)
    except PermissionDenied:
        raise deny(request, "absence requests: officers and administrators only") from None


STATUS_FILTERS = [("pending", AbsenceStatus.PENDING.label), ("decided", gettext_lazy("Decided"))]


class AbsenceFilterSet(WagtailFilterSet):
    """``status`` = pending (the default) | decided; ``office`` one of the caller's offices."""

    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Show"), choices=STATUS_FILTERS, method="filter_status", empty_label=None
    )
    office = office_filter(field_name="person__office")

    class Meta:
        model = AbsenceRequest
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        if value == "decided":
            return queryset.exclude(status=AbsenceStatus.PENDING)
        return queryset.filter(status=AbsenceStatus.PENDING)


def _evidence_mark(absence: AbsenceRequest) -> str:
    # named in words: an emoji shows as an empty box without an emoji font
    if not absence.evidence:
        return ""
    return format_html('<span data-testid="has-evidence">{}</span>', _("Evidence"))


def _month(absence: AbsenceRequest) -> str:
    return date_format(absence.period, "YEAR_MONTH_FORMAT")


class AbsenceIndexView(ForgivingFiltersMixin, generic.IndexView):
    """The leave requests of the caller's scope (``absences.handled_by``): pending first in the
    order they came, or those decided, newest first; search by name or case number, a filter
    by office, ordering by column; the administrators' spreadsheet export is logged
    (``audit.wagtail_exports``). ``?case=`` opens filing for that person, when in scope."""

    model = AbsenceRequest
    any_permission_required = None  # officers and administrators: checked in dispatch
    permission_policy = None
    index_url_name = "learning_absence_queue"
    index_results_url_name = "learning_absence_queue_results"
    template_name = "participation/absence/admin/queue.html"
    results_template_name = "includes/index_results.html"
    page_title = gettext_lazy("Leave requests")
    header_icon = "date"
    paginate_by = PAGE_SIZE
    filterset_class = AbsenceFilterSet
    search_fields = ["person__full_name", "person__case_number"]
    search_backend_name = None
    default_ordering = "filed_at"
    columns = [
        PlainDateColumn("filed_at", label=gettext_lazy("Filed"), format="Y-m-d H:i"),
        *person_columns(
            get_url=lambda row: reverse("learning_absence_detail", args=[row.pk]),
            link_testid=lambda row: f"open-absence-{row.pk}",
        ),
        Column("period", label=gettext_lazy("Month"), accessor=_month, sort_key="period"),
        Column(
            "requirement",
            label=gettext_lazy("Requirement"),
            accessor=absences.requirement_text,
            sort_key="requirement",
        ),
        Column("evidence", label=gettext_lazy("Evidence"), accessor=_evidence_mark),
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        PlainDateColumn("decided_at", label=gettext_lazy("Decided")),
    ]
    list_export = [
        "filed_at",
        "person",
        "case_number",
        "office",
        "period",
        "requirement",
        "evidence",
        "status",
        "decided_at",
    ]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "leave-requests"

    def dispatch(self, request, *args, **kwargs):
        _require_handler(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        case = request.GET.get("case", "").strip()[:40]
        if case:
            person = Person.objects.visible_to(request.user).filter(case_number=case).first()
            if person is not None:
                return redirect("learning_absence_file", pk=person.pk)
            messages.error(request, _("No person with this case number is in your offices."))
        return super().get(request, *args, **kwargs)

    def get_base_queryset(self):
        return absences.handled_by(self.request.user).select_related("person__office")

    @cached_property
    def showing_decided(self) -> bool:
        return (
            bool(
                self.filters
                and self.filters.is_valid()
                and self.filters.form.cleaned_data["status"]
            )
            and self.filters.form.cleaned_data["status"] == "decided"
        )

    def filter_queryset(self, queryset):
        # "status" has a default (pending): with no value, or none understood, it still applies
        if not self.showing_decided:
            queryset = queryset.filter(status=AbsenceStatus.PENDING)
        return super().filter_queryset(queryset)

    def get_ordering(self):
        if "ordering" not in self.request.GET and self.showing_decided:
            return "-decided_at"
        return super().get_ordering()

    def order_queryset(self, queryset):
        last = "-pk" if self.showing_decided else "pk"  # a stable page order
        return super().order_queryset(queryset).order_by(self.ordering, last)

    def to_row_dict(self, item):
        row = {column.name: column.get_value(item) for column in self.columns}
        row["evidence"] = _("Yes") if item.evidence else _("No")
        return row

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["case"] = self.request.GET.get("case", "").strip()[:40]
        context["no_results_testid"] = "queue-empty"
        return context

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No leave request matches. Clear the search or the filters to see more.")
        return _("No leave requests waiting. New requests from persons appear here.")


def _detail(request, absence: AbsenceRequest, form: DecideForm, status: int = 200):
    return render(
        request,
        "participation/absence/admin/detail.html",
        {
            "absence": absence,
            "form": form,
            "is_lecture": absence.requirement_key.startswith(f"{absences.LECTURE}:"),
            "is_image": absence.evidence_type in (absences.PNG, absences.JPEG),
            "kind_label": absences.requirement_label(
                absence.requirement_key.partition(":")[0], absences.requirement_text(absence)
            ),
        },
        status=status,
    )


def absence_detail(request, pk: int):
    absence = _handled(request, pk)
    record_access(request, action=Action.VIEW, obj=absence, person_id=absence.person_id)
    return _detail(request, absence, DecideForm(initial={"makeup": True}))


@require_POST
def absence_decide(request, pk: int):
    absence = _handled(request, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            decision = absences.do_decide_absence(
                absence,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
                makeup=form.cleaned_data["makeup"],
                by=request.user,
                request=request,
            )
        except AbsenceError as error:
            form.add_error(None, str(error))
        else:
            if decision.absence.status == AbsenceStatus.APPROVED:
                messages.success(request, _("Approved. The person has been told."))
            else:
                messages.success(request, _("Rejected. The person has been told."))
            if decision.attendance_note:
                messages.warning(request, decision.attendance_note)
            return redirect("learning_absence_queue")
    absence.refresh_from_db()
    return _detail(request, absence, form)


def staff_evidence(request, pk: int):
    absence = _handled(request, pk)
    handle = absences.open_evidence(absence, user=request.user, request=request)
    return _evidence_response(absence, handle, download="download" in request.GET)


def file_for_person(request, pk: int):
    _require_handler(request)
    person = access_logged(
        request, request.user, Person.objects.visible_to(request.user), pk, person_field="pk"
    )
    options = absences.open_options(person)
    if request.method == "POST":
        form = AbsenceForm(request.POST, request.FILES, options=options)
        if form.is_valid():
            absence = _file(request, person, form)
            if absence is not None:
                messages.success(request, _("The request has been filed."))
                return redirect("learning_absence_detail", pk=absence.pk)
    else:
        key = request.GET.get("requirement", "")[:80]
        form = AbsenceForm(options=options, initial={"requirement": _initial_choice(options, key)})
    return render(
        request,
        "participation/absence/admin/file.html",
        {"form": form, "options": options, "person": person},
    )


admin_urlpatterns = [
    path("absences/", AbsenceIndexView.as_view(), name="learning_absence_queue"),
    path(
        "absences/results/",
        AbsenceIndexView.as_view(results_only=True),
        name="learning_absence_queue_results",
    ),
    path("absences/<int:pk>/", absence_detail, name="learning_absence_detail"),
    path("absences/<int:pk>/decide/", absence_decide, name="learning_absence_decide"),
    path("absences/<int:pk>/evidence/", staff_evidence, name="learning_absence_staff_evidence"),
    path("absences/person/<int:pk>/new/", file_for_person, name="learning_absence_file"),
]
