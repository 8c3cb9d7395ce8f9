"""Staff pages of the files (Wagtail admin): the list per office by state with the
inspection figures, a file's checklist, history and review forms, and the copies' download.
Thin callers of ``dossiers.services``; every refusal is shown as a message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.db.models import Count, Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
from dossiers.archive import do_export_archive, history_csv, history_rows
from dossiers.editing import (
    KINDS,
    ROUNDS,
    SECTIONS,
    CatalogueEditError,
    as_data,
    moved,
    with_item,
    without,
)
from dossiers.forms import SCOPE_LABELS, NoteForm, RoundForm, SectionForm
from dossiers.models import Catalogue, Decision, Dossier, DossierProblem, DossierState
from dossiers.pdf import Copy
from dossiers.rules import REASONS, RULE_LABELS, RULE_PARAMS
from dossiers.schema import SectionDef
from dossiers.services import (
    CatalogueUnchanged,
    DossierError,
    DossierNotFound,
    access_dossier,
    access_person_to_compile,
    current_round,
    do_compile_now,
    do_pass,
    do_resolve_problem,
    do_restore_catalogue,
    do_resubmit,
    do_return,
    do_save_catalogue,
    may_compile,
    may_compile_seen,
    may_decide,
    may_fix,
    may_read_copy,
    read_copy,
)
from lib.downloads import attachment
from people.models import Office, Person
from people.roles import Role, roles_of

FILE_ROLES = frozenset({Role.OFFICER, Role.ADMINISTRATOR, Role.COUNSELOR})
LIST_LIMIT = 300


def can_view_files(user) -> bool:
    return bool(user.is_active and (user.is_superuser or roles_of(user) & FILE_ROLES))


def _quarter_start(today: dt.date) -> dt.date:
    return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _get_dossier_for_user(request, pk: int) -> Dossier:
    if not can_view_files(request.user):
        raise deny(request, "education and assistance files: staff in scope only")
    try:
        return access_dossier(request.user, pk)
    except DossierNotFound:
        raise Http404 from None


def _state_label(dossier: Dossier) -> str:
    if dossier.state in (DossierState.IN_ROUND, DossierState.RETURNED):
        label = _("Round %(n)d: %(round)s") % {
            "n": dossier.round,
            "round": current_round(dossier).title(),
        }
        if dossier.state == DossierState.RETURNED:
            label = _("%(round)s (returned)") % {"round": label}
        return label
    return str(DossierState(dossier.state).label)


def _state_columns(files, catalogue: Catalogue | None) -> list[tuple[tuple[str, int], str]]:
    """The list's columns: compiling, each review round (in review, by number), returned,
    archived. Each is ``((state, round), heading)``; rounds of an earlier catalogue with more
    rounds than the current one still get a column."""
    titles = [r.title() for r in catalogue.parsed.rounds] if catalogue else []
    last = max(len(titles), files.aggregate(n=Max("round", default=0))["n"] or 0)
    columns = [((DossierState.COMPILING, 0), str(DossierState.COMPILING.label))]
    for n in range(1, last + 1):
        if n <= len(titles):
            heading = _("Round %(n)d: %(round)s") % {"n": n, "round": titles[n - 1]}
        else:
            heading = _("Round %(n)d") % {"n": n}
        columns.append(((DossierState.IN_ROUND, n), heading))
    columns.append(((DossierState.RETURNED, 0), str(DossierState.RETURNED.label)))
    columns.append(((DossierState.ARCHIVED, 0), str(DossierState.ARCHIVED.label)))
    return columns


def _office_for(request) -> Office | None:
    """The office whose page this is (``?office=``): one the viewer sees, else 404."""
    value = request.GET.get("office", "")
    if not value:
        return None
    office = (
        Office.objects.visible_to(request.user).filter(pk=value).first()
        if value.isdigit()
        else None
    )
    if office is None:
        raise Http404
    return office


@require_GET
def dossier_list(request):
    """Files by office and state (in review: by round), the problems most often found per
    section this quarter, and the files overdue (released more than 30 days ago and not
    archived); for every office the viewer sees, or for one (``?office=``, its subtree)."""
    if not can_view_files(request.user):
        raise deny(request, "education and assistance files: staff in scope only")
    today = timezone.localdate()
    office = _office_for(request)
    files = Dossier.objects.visible_to(request.user).select_related("person__office", "catalogue")
    if office is not None:
        files = files.filter(person__office__path__startswith=office.path)
    catalogue = Catalogue.objects.current()
    columns = _state_columns(files, catalogue)
    by_office: dict[tuple[str, int], dict[tuple[str, int], int]] = {}
    rows_by_state = files.values("person__office__name", "person__office_id", "state", "round")
    for row in rows_by_state.annotate(n=Count("pk")):
        key = (row["state"], row["round"] if row["state"] == DossierState.IN_ROUND else 0)
        counts = by_office.setdefault((row["person__office__name"], row["person__office_id"]), {})
        counts[key] = counts.get(key, 0) + row["n"]
    sections = {s.key: s.title() for s in catalogue.parsed.sections} if catalogue else {}
    problems = (
        DossierProblem.objects.filter(
            dossier__in=files, review__at__date__gte=_quarter_start(today)
        )
        .values("section")
        .annotate(n=Count("pk"))
        .order_by("-n", "section")
    )
    rows = list(files.order_by("state", "person__supervision_end")[:LIST_LIMIT])
    for dossier in rows:
        dossier.state_label = _state_label(dossier)
    return render(
        request,
        "dossiers/list.html",
        {
            "office": office,
            "rows": rows,
            "limit": LIST_LIMIT,
            "columns": [heading for _key, heading in columns],
            "by_office": [
                (name, pk, [counts.get(key, 0) for key, _heading in columns])
                for (name, pk), counts in sorted(by_office.items())
            ],
            "problems": [(sections.get(p["section"], p["section"]), p["n"]) for p in problems],
            "overdue": list(files.overdue(today).order_by("person__supervision_end")[:100]),
            "unfiled": _released_without_file(request.user, office, today),
        },
    )


def _released_without_file(user, office: Office | None, today: dt.date) -> list[Person]:
    """Released persons the viewer sees who have no file yet (the daily job compiles them the
    day after release), each marked whether the viewer may compile it now."""
    persons = Person.objects.visible_to(user).filter(
        supervision_end__lt=today, dossier__isnull=True
    )
    if office is not None:
        persons = persons.filter(office__path__startswith=office.path)
    rows = list(persons.select_related("office").order_by("supervision_end")[:100])
    for person in rows:
        person.can_compile = may_compile_seen(user, person)
    return rows


def _return(request, dossier: Dossier) -> str:
    sections = dossier.catalogue.parsed.sections
    problems = [
        (s.key, request.POST.get(f"problem_{s.key}", "").strip())
        for s in sections
        if request.POST.get(f"problem_{s.key}", "").strip()
    ]
    do_return(dossier, request.user, problems, request.POST.get("note", ""))
    return _("The file was returned with %(count)d problems.") % {"count": len(problems)}


def _pass(request, dossier: Dossier) -> str:
    dossier = do_pass(dossier, request.user, request.POST.get("note", ""))
    if dossier.state == DossierState.ARCHIVED:
        return _("The last round is passed; the file is archived.")
    return _("Round passed.")


def _resolve(request, dossier: Dossier) -> str:
    try:
        problem = dossier.problems.get(pk=int(request.POST.get("problem", "")))
    except (ValueError, DossierProblem.DoesNotExist):
        raise DossierError(_("No such problem in this file.")) from None
    do_resolve_problem(problem, request.user, request.POST.get("resolution", ""))
    return _("Problem resolved.")


def _resubmit(request, dossier: Dossier) -> str:
    do_resubmit(dossier, request.user)
    return _("The file was compiled again and is back in review.")


ACTIONS = {"pass": _pass, "return": _return, "resolve": _resolve, "resubmit": _resubmit}


def _waiting(user, dossier: Dossier, reviews: list, can_act: bool) -> str:
    """What the file waits for, for a viewer who has no form to act with (empty for one who
    has): who decides the round, and why not them."""
    if can_act or dossier.state == DossierState.ARCHIVED:
        return ""
    if dossier.state == DossierState.COMPILING:
        return _(
            "The file is being compiled. If compiling was cut off, the daily job compiles it again."
        )
    if dossier.state == DossierState.RETURNED:
        return _("Returned: the person's case officer resolves each problem and resubmits.")
    round_def = current_round(dossier)
    values = {
        "who": SCOPE_LABELS.get(round_def.scope, round_def.scope),
        "role": Role(round_def.role).label,
    }
    passed = [r.round for r in reviews if r.reviewer_id == user.pk and r.decision == Decision.PASS]
    if passed:
        # one whole text, so no space is left between two Chinese sentences
        return _(
            "This round is decided by: %(who)s (%(role)s). You passed round %(n)d; the same "
            "person cannot pass two rounds of a file."
        ) % {**values, "n": passed[0]}
    return _("This round is decided by: %(who)s (%(role)s).") % values


@require_http_methods(["GET", "POST"])
def dossier_detail(request, pk: int):
    dossier = _get_dossier_for_user(request, pk)
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, _("Unknown action; nothing was changed."))
        else:
            try:
                messages.success(request, action(request, dossier))
            except DossierError as error:
                messages.error(request, str(error))
        return redirect("dossiers_detail", pk=dossier.pk)
    record_access(request, action=Action.VIEW, obj=dossier, person_id=dossier.person_id)
    catalogue = dossier.catalogue.parsed
    verdicts = {v["section"]: v for v in dossier.verdicts}
    checklist = [(s, verdicts.get(s.key)) for s in catalogue.sections]
    reviews = list(dossier.reviews.select_related("reviewer").prefetch_related("problems"))
    open_problems = list(dossier.problems.open())
    # Each problem is tied to a section: shown by its title (a section since removed from
    # the catalogue keeps its key).
    titles = {s.key: s.title() for s in catalogue.sections}
    for problem in [*open_problems, *(p for r in reviews for p in r.problems.all())]:
        problem.section_title = titles.get(problem.section, problem.section)
    for review in reviews:
        review.round_title = (
            catalogue.rounds[review.round - 1].title()
            if review.round <= len(catalogue.rounds)
            else review.round_key
        )
    can_decide = dossier.state == DossierState.IN_ROUND and may_decide(request.user, dossier)
    can_fix = dossier.state == DossierState.RETURNED and may_fix(request.user, dossier)
    return render(
        request,
        "dossiers/detail.html",
        {
            "dossier": dossier,
            "waiting": _waiting(request.user, dossier, reviews, can_decide or can_fix),
            "state_label": _state_label(dossier),
            "checklist": checklist,
            "sections": catalogue.sections,
            "reviews": reviews,
            "open_problems": open_problems,
            "can_decide": can_decide,
            "can_fix": can_fix,
            "can_compile": dossier.state == DossierState.COMPILING
            and may_compile(request.user, dossier.person),
            "copies": [c for c in Copy if may_read_copy(request.user, dossier, c)]
            if dossier.compilation
            else [],
        },
    )


@require_GET
def dossier_download(request, pk: int, copy: str):
    dossier = _get_dossier_for_user(request, pk)
    if copy not in Copy.values:
        raise Http404
    try:
        data = read_copy(dossier, copy, user=request.user, request=request)
    except DossierNotFound:
        raise Http404 from None
    except DossierError as error:
        messages.error(request, str(error))
        return redirect("dossiers_detail", pk=dossier.pk)
    return attachment(data, "application/pdf", f"dossier-{dossier.pk}-{copy}.pdf")


def can_edit_catalogue(user) -> bool:
    return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))


def _catalogue_admin(request) -> Catalogue | None:
    if not can_edit_catalogue(request.user):
        raise deny(request, "file catalogue: administrators only")
    return Catalogue.objects.current()


def _save(request, definition: dict, note: str) -> bool:
    """Save ``definition`` as a new version with a message; whether it was saved."""
    try:
        saved = do_save_catalogue(definition, by=request.user, note=note)
    except CatalogueUnchanged as error:
        messages.info(request, str(error))
        return True
    except DossierError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, _("Saved as version %(version)d.") % {"version": saved.version})
    return True


STRUCTURE_OPS = {"up": -1, "down": 1}


@require_http_methods(["GET", "POST"])
def catalogue_edit(request):
    """The catalogue in use (administrators): its sections and rounds in order, each edited
    with its own form, moved or removed here; the versions, an earlier one made current
    again; the definition as JSON, read-only. Every change saves a new version."""
    current = _catalogue_admin(request)
    if current is None:
        raise Http404
    parsed = current.parsed
    note_form = NoteForm(request.POST or None)
    if request.method == "POST":
        # One form for every row's buttons: each button's value is "op kind key".
        op, kind, key = ([*request.POST.get("op", "").split(" ", 2), "", ""])[:3]
        if op not in (*STRUCTURE_OPS, "remove") or kind not in KINDS:
            messages.error(request, _("Unknown action; nothing was changed."))
        elif not note_form.is_valid():
            messages.error(request, _("Say in a few words what changed; nothing was saved."))
        else:
            definition = as_data(parsed)
            try:
                changed = (
                    without(definition, kind, key)
                    if op == "remove"
                    else moved(definition, kind, key, STRUCTURE_OPS[op])
                )
            except CatalogueEditError as error:
                messages.error(request, str(error))
            else:
                if _save(request, changed, note_form.cleaned_data["note"]):
                    return redirect("dossiers_catalogue")
    return render(
        request,
        "dossiers/catalogue.html",
        {
            "current": current,
            "sections": [
                (section, RULE_LABELS.get(section.rule, section.rule), _params_text(section))
                for section in parsed.sections
            ],
            "rounds": [
                (r, Role(r.role).label, SCOPE_LABELS.get(r.scope, r.scope)) for r in parsed.rounds
            ],
            "note_form": note_form,
            "restore_form": NoteForm(),
            "json": json.dumps(current.definition, ensure_ascii=False, indent=2),
            "versions": Catalogue.objects.select_related("created_by").order_by("-version")[:50],
        },
    )


def _params_text(section: SectionDef) -> str:
    params = section.params
    if section.rule == "questionnaires_reviewed":
        reasons = params.get("reasons") or ["intake", "exit"]
        return "、".join(str(REASONS.get(r, r)) for r in reasons)
    if section.rule == "plan_approved":
        return _("within %(days)d days of intake") % {"days": params.get("days", 30)}
    if section.rule == "plan_reviews_on_time":
        return _("at most %(days)d days late") % {"days": params.get("grace_days", 7)}
    return ""


def _item_form(request, kind: str, key: str | None):
    """Edit one section or round (``key``), or add one (``key`` is ``None``)."""
    current = _catalogue_admin(request)
    if current is None:
        raise Http404
    parsed = current.parsed
    form_class = SectionForm if kind == SECTIONS else RoundForm
    item = None
    if key is not None:
        item = parsed.section(key) if kind == SECTIONS else parsed.round(key)
        if item is None:
            raise Http404
    initial = form_class.initial_for(item) if item is not None else {}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.section() if kind == SECTIONS else form.round()
        try:
            definition = with_item(as_data(parsed), kind, key, data)
        except CatalogueEditError as error:
            form.add_error(None, str(error))
        else:
            if _save(request, definition, form.cleaned_data["note"]):
                return redirect("dossiers_catalogue")
            form.add_error(None, _("Nothing was saved."))
    if kind == SECTIONS:
        title = (
            _("Add a section")
            if item is None
            else _("Section: %(title)s") % {"title": item.title()}
        )
    else:
        title = (
            _("Add a review round")
            if item is None
            else _("Round: %(title)s") % {"title": item.title()}
        )
    return render(
        request,
        "dossiers/catalogue_item.html",
        {
            "form": form,
            "kind": kind,
            "title": title,
            "current": current,
            "rule_params": {rule: list(names) for rule, names in RULE_PARAMS.items()},
        },
    )


@require_http_methods(["GET", "POST"])
def catalogue_section(request, key: str | None = None):
    return _item_form(request, SECTIONS, key)


@require_http_methods(["GET", "POST"])
def catalogue_round(request, key: str | None = None):
    return _item_form(request, ROUNDS, key)


@require_POST
def catalogue_restore(request, version: int):
    """Make an earlier version current again (as a new version, with a note)."""
    _catalogue_admin(request)
    earlier = Catalogue.objects.filter(version=version).first()
    if earlier is None:
        raise Http404
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say in a few words what changed; nothing was saved."))
        return redirect("dossiers_catalogue")
    try:
        saved = do_restore_catalogue(earlier, by=request.user, note=form.cleaned_data["note"])
    except CatalogueUnchanged as error:
        messages.info(request, str(error))
    except DossierError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Version %(old)d is in use again, saved as version %(new)d.")
            % {"old": earlier.version, "new": saved.version},
        )
    return redirect("dossiers_catalogue")


@require_POST
def dossier_history_export(request, pk: int):
    """The file's review history as CSV: every decision with its round, reviewer, time and
    note, and every problem with its section and how it was resolved. Logged as an export."""
    dossier = _get_dossier_for_user(request, pk)
    if not may_read_copy(request.user, dossier, Copy.OFFICER):
        raise Http404
    text = history_csv(history_rows(dossier))
    record_access(
        request,
        action=Action.EXPORT,
        obj=dossier,
        person_id=dossier.person_id,
        detail="review history",
    )
    return attachment(text, "text/csv", f"dossier-{dossier.pk}-history.csv")


@require_POST
def dossier_archive_export(request, pk: int):
    """An archived file in one zip (``dossiers.archive``); a tampered copy stops it."""
    dossier = _get_dossier_for_user(request, pk)
    try:
        data = do_export_archive(dossier, request.user, request=request)
    except DossierNotFound:
        raise Http404 from None
    except DossierError as error:
        messages.error(request, str(error))
        return redirect("dossiers_detail", pk=dossier.pk)
    return attachment(data, "application/zip", f"dossier-{dossier.pk}-archive.zip")


@require_POST
def dossier_compile(request, person_pk: int):
    """Compile a released person's file now (立即生成档案): their case officer or an
    administrator in scope; anyone else who sees the person is told why not. Back to the file
    (or to the list when there is none)."""
    if not can_view_files(request.user):
        raise deny(request, "education and assistance files: staff in scope only")
    try:
        person = access_person_to_compile(request.user, person_pk)
    except DossierNotFound:
        raise Http404 from None
    try:
        dossier = do_compile_now(person, request.user, request=request)
    except DossierError as error:
        messages.error(request, str(error))
        existing = Dossier.objects.visible_to(request.user).filter(person=person).first()
        if existing is not None:
            return redirect("dossiers_detail", pk=existing.pk)
        return redirect("dossiers_list")
    messages.success(
        request,
        _("The file of %(name)s was compiled; round 1 can begin.") % {"name": person.full_name},
    )
    return redirect("dossiers_detail", pk=dossier.pk)
