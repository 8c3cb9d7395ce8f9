"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from people.models import Person
from people.roles import is_staff_member
from people.services import (
    RosterFileError,
    access_person_for_user,
    check_roster,
    do_import_roster,
    read_roster,
)

PAGE_SIZE = 50


def _require_staff(request) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def person_list(request):
    _require_staff(request)
    persons = (
        Person.objects.visible_to(request.user)
        .select_related("office", "case_officer")
        .order_by("office__path", "case_number")
    )
    query = request.GET.get("q", "").strip()[:100]
    if query:
        persons = persons.filter(Q(full_name__icontains=query) | Q(case_number__icontains=query))
    page = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(request, "people/admin/person_list.html", {"page_obj": page, "query": query})


def person_detail(request, pk: int):
    _require_staff(request)
    person = access_person_for_user(request.user, pk)
    counselors = person.counselors.all()
    return render(
        request, "people/admin/person_detail.html", {"person": person, "counselors": counselors}
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An .xlsx or .csv file with one row per person."),
    )


@permission_required("people.import_roster", raise_exception=True)
def roster_import(request):
    report = None
    summary = None
    file_error = None
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = check_roster(read_roster(upload, filename=upload.name))
        except RosterFileError as exc:
            file_error = str(exc)
        else:
            if report.ok:
                summary = do_import_roster(report)
    return render(
        request,
        "people/admin/roster_import.html",
        {"form": form, "report": report, "summary": summary, "file_error": file_error},
    )
