"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``): assigning
courses, the enrollment list, removing an enrollment, a certificate for staff, and the
administrators' auto-enrollment rules."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef, Q
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import access_logged, record_access
from courses.models import CoursePage
from learning.certificate_pdf import certificate_pdf
from learning.certificates import (
    certificate_filename,
    may_revoke,
    verification_url,
)
from learning.enrollment import (
    do_apply_rule,
    do_enroll,
    do_unenroll,
    enrollable_persons,
    persons_in_category,
    persons_in_office,
)
from learning.models import Certificate, Enrollment, EnrollmentRule
from lib.admin_columns import (
    ForgivingFiltersMixin,
    IdentifiedRowsTable,
    PlainDateColumn,
    YesNoColumn,
    person_columns,
)
from lib.downloads import attachment
from lib.parse import parse_id
from lib.widgets import DateInput
from people.filters import office_filter
from people.models import Category, Office, Person
from people.roles import is_staff_member

PAGE_SIZE = 50
ADD_ENROLLMENT = "learning.add_enrollment"
DELETE_ENROLLMENT = "learning.delete_enrollment"


def published_courses():
    return CoursePage.objects.live().order_by("title")


# --- Assigning a course ---------------------------------------------------------------------


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Office) -> str:
        return "— " * (obj.depth - 1) + obj.name


class EnrollForm(forms.Form):
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"), queryset=CoursePage.objects.none()
    )
    persons = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Persons"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=gettext_lazy("Hold Ctrl (⌘ on a Mac) to pick several."),
    )
    office = OfficeChoiceField(
        label=gettext_lazy("or everyone in an office"),
        queryset=Office.objects.none(),
        required=False,
        help_text=gettext_lazy("Includes the offices under it."),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("or everyone in a supervision category"),
        choices=[("", "---------"), *Category.choices],
        required=False,
    )
    due_date = forms.DateField(label=gettext_lazy("Due date"), widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["course"].queryset = published_courses()
        self.fields["persons"].queryset = enrollable_persons(user).order_by(
            "full_name", "case_number"
        )
        self.fields["office"].queryset = Office.objects.visible_to(user)

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The due date cannot be in the past."))
        return due

    def clean(self):
        cleaned = super().clean()
        chosen = [name for name in ("persons", "office", "category") if cleaned.get(name)]
        if len(chosen) != 1 and not self.errors.keys() & {"persons", "office", "category"}:
            raise forms.ValidationError(
                _("Choose persons, an office or a category: exactly one of the three.")
            )
        return cleaned

    def target(self):
        """The scoped persons to enroll, a description for the access log, and the person's id
        when exactly one person was chosen."""
        data = self.cleaned_data
        if data.get("persons"):
            chosen = list(data["persons"])
            persons = enrollable_persons(self.user).filter(pk__in=[p.pk for p in chosen])
            single = chosen[0].pk if len(chosen) == 1 else None
            return persons, f"{len(chosen)} chosen", single
        if data.get("office"):
            office = data["office"]
            return persons_in_office(self.user, office), f"office {office.pk}", None
        category = data["category"]
        return persons_in_category(self.user, category), f"category {category}", None


@permission_required(ADD_ENROLLMENT)
@require_http_methods(["GET", "POST"])
def enroll(request):
    initial = {}
    course_id = parse_id(request.GET.get("course"))
    if course_id is not None:
        initial["course"] = course_id
    form = EnrollForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        course = form.cleaned_data["course"]
        due = form.cleaned_data["due_date"]
        persons, description, single = form.target()
        result = do_enroll(request.user, course, persons, due)
        record_access(
            request,
            action=Action.CHANGE,
            obj=course,
            person_id=single,
            detail=(
                f"enroll {description}: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged; due {due.isoformat()}"
            ),
        )
        if result.total:
            messages.success(
                request,
                _(
                    "“%(course)s”: %(created)s newly enrolled, %(updated)s given the new due "
                    "date, %(unchanged)s already enrolled with this due date."
                )
                % {
                    "course": course.title,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
        else:
            messages.warning(
                request, _("Nobody was enrolled: no active person in your scope matches.")
            )
        return redirect(f"{reverse('learning_enrollment_list')}?{urlencode({'course': course.pk})}")
    return render(request, "learning/admin/enroll.html", {"form": form})


# --- The enrollment list --------------------------------------------------------------------


def _assigned_by(enrollment: Enrollment) -> str:
    if enrollment.rule_id:
        return _("Auto-enrollment rule")
    if enrollment.assigned_by_id:
        return enrollment.assigned_by.get_full_name() or "—"
    return "—"


class EnrollmentFilterSet(WagtailFilterSet):
    course = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Course"),
        field_name="course",
        queryset=lambda request: CoursePage.objects.order_by("title"),
    )
    office = office_filter(field_name="person__office")

    class Meta:
        model = Enrollment
        fields: list[str] = []


class ActionsColumn(Column):
    """A cell of POST buttons (certificate download, revocation, removal) drawn by a template;
    the form's CSRF token comes from the request."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        context["csrf"] = get_token(request) if request is not None else ""
        context["can_revoke"] = request is not None and may_revoke(request.user)
        return context


class CertificateColumn(ActionsColumn):
    cell_template_name = "learning/admin/enrollment_certificate_cell.html"


class RemoveColumn(ActionsColumn):
    cell_template_name = "learning/admin/enrollment_remove_cell.html"


class EnrollmentTable(IdentifiedRowsTable):
    row_prefix = "enrollment"


class EnrollmentIndexView(ForgivingFiltersMixin, generic.IndexView):
    """The enrolments of the caller's scope (``Enrollment.objects.visible_to``): filters by
    course and office, search by name or case number, ordering by column; the administrators'
    spreadsheet export is logged (``audit.wagtail_exports``).

    Fast at province scale: the page is chosen on a narrow query (enrolment ids in the wanted
    order, no joins but those the filters and the ordering need), then only that page's rows
    are fetched with their person, office, course and assigner, and their certificates in one
    more query: a fixed number of queries whatever the number of rows."""

    model = Enrollment
    any_permission_required = None  # officers and administrators: checked in dispatch
    permission_policy = None
    index_url_name = "learning_enrollment_list"
    index_results_url_name = "learning_enrollment_list_results"
    template_name = "learning/admin/enrollment_list.html"
    results_template_name = "includes/index_results.html"
    page_title = gettext_lazy("Course enrollments")
    header_icon = "folder-open-inverse"
    paginate_by = PAGE_SIZE
    filterset_class = EnrollmentFilterSet
    table_class = EnrollmentTable
    search_fields = ["person__full_name", "person__case_number"]
    search_backend_name = None
    # Newest assignments first: the order an index serves (``created_at``, id), so the first
    # page of a bureau's 50,000 enrolments is read without sorting them all; sorting by course
    # or name stays one click away.
    default_ordering = "-created_at"
    export_columns = [
        ("person", gettext_lazy("Person")),
        ("case_number", gettext_lazy("Case number")),
        ("office", gettext_lazy("Office")),
        ("course", gettext_lazy("Course")),
        ("due_date", gettext_lazy("Due date")),
        ("created_at", gettext_lazy("Assigned on")),
        ("assigned_by", gettext_lazy("Assigned by")),
        ("certificate", gettext_lazy("Certificate")),
    ]
    list_export = [name for name, _label in export_columns]
    export_headings = dict(export_columns)
    export_filename = "enrollments"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(ADD_ENROLLMENT):
            raise deny(request, f"{request.method} needs {ADD_ENROLLMENT}")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def columns(self):
        columns = [
            *person_columns(),
            Column(
                "course",
                label=gettext_lazy("Course"),
                accessor="course.title",
                sort_key="course__title",
            ),
            PlainDateColumn("due_date", label=gettext_lazy("Due date")),
            PlainDateColumn("created_at", label=gettext_lazy("Assigned on")),
            Column("assigned_by", label=gettext_lazy("Assigned by"), accessor=_assigned_by),
            CertificateColumn("certificate", label=gettext_lazy("Certificate")),
        ]
        if self.request.user.has_perm(DELETE_ENROLLMENT):
            columns.append(RemoveColumn("remove", label=gettext_lazy("Actions")))
        return columns

    def get_base_queryset(self):
        return Enrollment.objects.visible_to(self.request.user)

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "enrollment-list"}}

    def order_queryset(self, queryset):
        # the chosen column, then course, name and pk: a stable page order; the assignment
        # time is broken by id alone (in the same direction), so its index serves the page
        chosen = self.ordering.lstrip("-")
        if chosen == "created_at":
            return queryset.order_by(self.ordering, self.ordering.replace("created_at", "pk"))
        rest = [key for key in ("course__title", "person__full_name", "pk") if key != chosen]
        return queryset.order_by(self.ordering, *rest)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, ids, is_paginated = super().paginate_queryset(
            queryset.values_list("pk", flat=True), page_size
        )
        rows = page_rows(list(ids))
        page.object_list = rows
        return paginator, page, rows, is_paginated

    def as_spreadsheet(self, queryset, spreadsheet_format):
        certified = Certificate.objects.filter(person=OuterRef("person"), course=OuterRef("course"))
        rows = queryset.select_related("person__office", "course", "assigned_by").annotate(
            has_certificate=Exists(certified)
        )
        return super().as_spreadsheet(rows, spreadsheet_format)

    def to_row_dict(self, item):
        certificate = getattr(item, "has_certificate", None)
        if certificate is None:
            certificate = item.certificate is not None
        return {
            "person": item.person.full_name,
            "case_number": item.person.case_number,
            "office": item.person.office.name,
            "course": item.course.title,
            "due_date": item.due_date.isoformat() if item.due_date else "",
            "created_at": timezone.localdate(item.created_at).isoformat(),
            "assigned_by": _assigned_by(item),
            "certificate": _("Yes") if certificate else _("No"),
        }

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        course_id = parse_id(self.request.GET.get("course"))
        assign = reverse("learning_enroll")
        if course_id is not None:
            assign = f"{assign}?{urlencode({'course': course_id})}"
        context["assign_url"] = assign
        context["no_results_testid"] = "no-enrollments"
        return context

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No enrollment matches. Clear the search or the filters to see more.")
        return _("No enrollments yet. Assign a course to persons to see them here.")


def page_rows(ids: list[int]) -> list[Enrollment]:
    """The enrolments ``ids`` in that order, with person, office, course and assigner, and each
    one's certificate (``certificate``: the person's certificate of the course, or None): three
    queries however many rows."""
    if not ids:
        return []
    found = Enrollment.objects.select_related("person__office", "course", "assigned_by").in_bulk(
        ids
    )
    rows = [found[pk] for pk in ids if pk in found]
    certificates: dict[tuple[int, int], Certificate] = {}
    issued = Certificate.objects.filter(
        person_id__in={row.person_id for row in rows},
        course_id__in={row.course_id for row in rows},
    )
    for certificate in issued.order_by("-pk"):  # the first issued wins
        certificates[(certificate.person_id, certificate.course_id)] = certificate
    for row in rows:
        row.certificate = certificates.get((row.person_id, row.course_id))
    return rows


@require_POST
@permission_required(DELETE_ENROLLMENT)
def unenroll(request, pk: int):
    """Remove one enrollment of a person in the user's scope (404 outside it, logged)."""
    scoped = Enrollment.objects.visible_to(request.user).select_related("person", "course")
    enrollment = access_logged(
        request, request.user, scoped, pk, person_field="person_id", action=Action.CHANGE
    )
    course, person = enrollment.course, enrollment.person
    do_unenroll(enrollment)
    messages.success(
        request,
        _("%(name)s no longer has the course “%(course)s”.")
        % {"name": person.full_name, "course": course.title},
    )
    return redirect(f"{reverse('learning_enrollment_list')}?{urlencode({'course': course.pk})}")


# --- Certificates for staff -----------------------------------------------------------------


@require_POST
def certificate_download(request, pk: int):
    """A person's certificate as PDF for staff who have the person in scope (logged as an
    export; POST, so a link or a prefetch never triggers it)."""
    if not is_staff_member(request.user):
        raise deny(request, "staff only")
    scoped = Certificate.objects.visible_to(request.user)
    certificate = access_logged(
        request, request.user, scoped, pk, person_field="person_id", action=Action.EXPORT
    )
    body = certificate_pdf(certificate, verification_url(certificate, request))
    return attachment(body, "application/pdf", certificate_filename(certificate))


# --- Auto-enrollment rules (administrators) --------------------------------------------------


class EnrollmentRuleForm(WagtailAdminModelForm):
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"),
        queryset=CoursePage.objects.none(),
        help_text=gettext_lazy("Only published courses can be chosen."),
    )

    class Meta:
        model = EnrollmentRule
        fields = ["category", "course", "due_days", "due_from", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        courses = Q(live=True)
        if self.instance.course_id:  # keep a rule editable after its course is unpublished
            courses |= Q(pk=self.instance.course_id)
        self.fields["course"].queryset = CoursePage.objects.filter(courses).order_by("title")


class RuleSavingMixin:
    """Apply the rule right after it is saved, and log the change."""

    def save_instance(self):
        rule = self.form.instance
        if rule._state.adding:
            rule.created_by = self.request.user
        rule = super().save_instance()
        report = do_apply_rule(rule)
        record_access(
            self.request,
            action=Action.CHANGE,
            obj=rule,
            detail=f"rule saved: {report.enrolled} enrolled of {report.persons} new persons",
        )
        if report.enrolled:
            messages.info(
                self.request,
                _("The rule enrolled %(count)s person(s) now.") % {"count": report.enrolled},
            )
        return rule


class EnrollmentRuleCreateView(RuleSavingMixin, generic.CreateView):
    pass


class EnrollmentRuleEditView(RuleSavingMixin, generic.EditView):
    pass


class EnrollmentRuleViewSet(ModelViewSet):
    model = EnrollmentRule
    form_fields = ["category", "course", "due_days", "due_from", "active"]
    list_display = [
        "category",
        "course",
        "due_days",
        "due_from",
        YesNoColumn("active", model=EnrollmentRule),
        "created_by",
    ]
    list_filter = ["category", "active"]
    add_view_class = EnrollmentRuleCreateView
    edit_view_class = EnrollmentRuleEditView
    icon = "list-ul"
    menu_label = gettext_lazy("Auto-enrollment rules")
    menu_name = "auto-enrollment-rules"
    add_to_admin_menu = True
    menu_order = 325
    name = "enrollment_rules"
    url_prefix = "enrollment-rules"
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return EnrollmentRuleForm


urlpatterns = [
    path("learning/enroll/", enroll, name="learning_enroll"),
    path("learning/enrollments/", EnrollmentIndexView.as_view(), name="learning_enrollment_list"),
    path(
        "learning/enrollments/results/",
        EnrollmentIndexView.as_view(results_only=True),
        name="learning_enrollment_list_results",
    ),
    path("learning/enrollments/<int:pk>/remove/", unenroll, name="learning_unenroll"),
    path(
        "learning/certificates/<int:pk>/pdf/",
        certificate_download,
        name="learning_certificate_staff",
    ),
]
