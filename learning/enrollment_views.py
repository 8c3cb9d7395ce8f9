"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``): assigning
courses, the enrollment list, removing an enrollment, a certificate for staff, and the
administrators' auto-enrollment rules."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import access_logged, record_access
from courses.models import CoursePage
from learning.certificates import (
    certificate_filename,
    certificate_pdf,
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
from lib.admin_columns import YesNoColumn
from lib.downloads import attachment
from lib.parse import parse_id
from lib.widgets import DateInput
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


@permission_required(ADD_ENROLLMENT)
def enrollment_list(request):
    certificate = Certificate.objects.filter(person=OuterRef("person"), course=OuterRef("course"))
    enrollments = (
        Enrollment.objects.visible_to(request.user)
        .select_related("person__office", "course", "assigned_by", "rule")
        .annotate(
            certificate_id=Subquery(certificate.values("pk")[:1]),
            certificate_revoked_at=Subquery(certificate.values("revoked_at")[:1]),
        )
        .order_by("course__title", "person__full_name", "pk")
    )
    course_id = parse_id(request.GET.get("course"))
    if course_id is not None:
        enrollments = enrollments.filter(course_id=course_id)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        enrollments = enrollments.filter(
            Q(person__full_name__icontains=query) | Q(person__case_number__icontains=query)
        )
    page = Paginator(enrollments, PAGE_SIZE).get_page(request.GET.get("p"))
    filters = {"q": query, "course": course_id or ""}
    return render(
        request,
        "learning/admin/enrollment_list.html",
        {
            "page_obj": page,
            "courses": list(published_courses().only("pk", "title")),
            "course_id": course_id,
            "query": query,
            "filters": urlencode(filters),
            "can_remove": request.user.has_perm(DELETE_ENROLLMENT),
            "can_revoke": may_revoke(request.user),
        },
    )


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
    path("learning/enrollments/", enrollment_list, name="learning_enrollment_list"),
    path("learning/enrollments/<int:pk>/remove/", unenroll, name="learning_unenroll"),
    path(
        "learning/certificates/<int:pk>/pdf/",
        certificate_download,
        name="learning_certificate_staff",
    ),
]
