"""Staff views inside the Wagtail admin (registered in ``wagtail_hooks.py``)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

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
from people import person_page
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
# The person page's timeline grows by this many events per "more", up to the cap.
TIMELINE_STEP = 40
TIMELINE_MAX = 400


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


def _timeline_filter(request) -> tuple[list[str], int, list[str]]:
    """The chosen timeline kinds and length from GET, and what was ignored (a bad value is
    dropped with a message, never an error)."""
    known = {source.kind for source in person_page.timeline_kinds()}
    ignored: list[str] = []
    kinds = []
    for value in request.GET.getlist("kind")[:20]:
        if value in known:
            kinds.append(value)
        else:
            ignored.append(_("Unknown kind of event ignored: “%(value)s”.") % {"value": value[:40]})
    shown = TIMELINE_STEP
    raw = request.GET.get("shown", "")
    if raw:
        try:
            shown = int(raw)
        except ValueError:
            shown = 0
        if not TIMELINE_STEP <= shown <= TIMELINE_MAX:
            ignored.append(
                _("The number of events to show was not understood; showing the newest.")
            )
            shown = TIMELINE_STEP
    return kinds, shown, ignored


def person_detail(request, pk: int):
    """One page per person (一人一档): the summary and every section the apps register, and
    the timeline. Logged once per view (``access_person_for_user``)."""
    _require_staff(request)
    person = access_person_for_user(request.user, pk, request=request)
    kinds, shown, ignored = _timeline_filter(request)
    entries, has_more = person_page.timeline(person, request.user, kinds, limit=shown)
    more_query = urlencode(
        [("kind", kind) for kind in kinds] + [("shown", min(shown + TIMELINE_STEP, TIMELINE_MAX))]
    )
    return render(
        request,
        "people/admin/person_detail.html",
        {
            "person": person,
            "counselors": person.counselors.all(),
            "facts": person_page.summary_facts(person, request.user),
            "sections": person_page.sections_for(person, request.user),
            "timeline": entries,
            "timeline_kinds": [
                (source.kind, source.label, source.kind in kinds)
                for source in person_page.timeline_kinds()
            ],
            "timeline_more": f"?{more_query}#timeline" if has_more and shown < TIMELINE_MAX else "",
            "timeline_ignored": ignored,
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
