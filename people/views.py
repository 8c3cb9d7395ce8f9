"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``)."""

from __future__ import annotations

import json

from django import forms
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from lib.downloads import attachment
from people.activation import activation_status
from people.models import Person
from people.privacy import collect_person_data
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
        raise deny(request)


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
    person = access_person_for_user(request.user, pk, request=request)
    counselors = person.counselors.all()
    return render(
        request,
        "people/admin/person_detail.html",
        {
            "person": person,
            "counselors": counselors,
            "can_export": request.user.has_perm("people.export_person_data"),
            "can_issue_activation": request.user.has_perm("people.add_activationcode"),
            "activation": activation_status(person),
        },
    )


@require_POST
@permission_required("people.export_person_data")
def person_export(request, pk: int):
    """Subject-access export: everything held about one person, as a JSON download.

    POST only (a logged, sensitive action must not be triggered by a link or a prefetch)."""
    person = access_person_for_user(request.user, pk, request=request)
    data = collect_person_data(person)
    record_access(request, action=Action.EXPORT, obj=person, person_id=person.pk)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    filename = f"person-{person.pk}-{timezone.localdate():%Y%m%d}.json"
    return attachment(body, "application/json; charset=utf-8", filename)


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An .xlsx or .csv file with one row per person."),
    )


@permission_required("people.import_roster")
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
