"""The officer's roll-call pages in the Wagtail admin (``/admin/rollcall/…``).

Officers and administrators only (``services.may_start_calls``; others 403, logged), every
person and call through ``Person.objects.visible_to`` (out of scope: 404, logged as a
denial). Each page that shows a person's calls is in the access log.
"""

from __future__ import annotations

import json
import random
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
from live.jitsi import script_url
from people.models import Person
from rollcall import services
from rollcall.forms import (
    ConfirmForm,
    ExcuseForm,
    GroupCallForm,
    PolicyForm,
    RestoreForm,
    SpotNowForm,
)
from rollcall.models import (
    CallKind,
    Result,
    RollCall,
    RollCallPolicy,
    RollCallTarget,
    TargetState,
)

RECENT_CALLS = 30


def caller_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.may_start_calls(request.user):
            raise deny(request, f"{request.method} roll-call needs an officer")
        return view(request, *args, **kwargs)

    return wrapped


def _started(request, result: services.StartResult):
    if result.not_possible:
        messages.warning(
            request,
            _(
                "The video server cannot be reached: the roll-call is recorded as not possible "
                "and nobody was rung."
            ),
        )
    else:
        messages.success(
            request,
            _("Ringing %(n)s person(s).") % {"n": len(result.targets)},
        )
    if result.skipped:
        messages.info(
            request,
            _("Not rung, a roll-call is still ringing: %(names)s")
            % {"names": "、".join(p.full_name for p in result.skipped)},
        )


@require_GET
@caller_required
def index(request):
    calls = list(
        RollCall.objects.filter(targets__in=RollCallTarget.objects.visible_to(request.user))
        .distinct()
        .select_related("started_by")
        .order_by("-created", "-pk")[:RECENT_CALLS]
    )
    return render(
        request,
        "rollcall/admin/index.html",
        {
            "calls": calls,
            "group_form": GroupCallForm(user=request.user),
            "spot_form": SpotNowForm(),
            "may_edit_policy": services.may_edit_policy(request.user),
        },
    )


@require_POST
@caller_required
def start_group(request):
    form = GroupCallForm(request.POST, user=request.user)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or [_("Check the form.")]:
            messages.error(request, error)
        return redirect("rollcall_admin_index")
    group = services.Group(
        office=form.cleaned_data["office"],
        category=form.cleaned_data["category"],
        lecture=form.cleaned_data["lecture"],
    )
    try:
        persons = list(services.group_persons(request.user, group).select_related("user"))
        result = services.do_start_call(
            request.user, persons, kind=CallKind.GROUP, audience=group.describe()
        )
    except services.RollCallError as error:
        messages.error(request, error.messages[0])
        return redirect("rollcall_admin_index")
    _started(request, result)
    return redirect("rollcall_admin_call", result.call.pk)


@require_POST
@caller_required
def start_spot(request):
    """A spot check now: ``count`` persons drawn at random among those the officer sees."""
    form = SpotNowForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how many persons (1 to 20)."))
        return redirect("rollcall_admin_index")
    persons = Person.objects.visible_to(request.user).active().select_related("user")
    if form.cleaned_data["category"]:
        persons = persons.filter(category=form.cleaned_data["category"])
    ids = list(persons.values_list("pk", flat=True))
    chosen = random.SystemRandom().sample(ids, min(len(ids), form.cleaned_data["count"]))
    try:
        result = services.do_start_call(
            request.user,
            list(persons.filter(pk__in=chosen)),
            kind=CallKind.SPOT,
            audience=_("Spot check"),
        )
    except services.RollCallError as error:
        messages.error(request, error.messages[0])
        return redirect("rollcall_admin_index")
    _started(request, result)
    return redirect("rollcall_admin_call", result.call.pk)


@require_GET
@caller_required
def person_history(request, pk: int):
    person = services.access_person_for_call(request.user, pk, request=request)
    return render(
        request,
        "rollcall/admin/person.html",
        {"person": person, "targets": list(services.history_for(person)[:200])},
    )


@require_POST
@caller_required
def call_person(request, pk: int):
    person = services.access_person_for_call(request.user, pk, request=request)
    try:
        result = services.do_start_call(
            request.user, [person], kind=CallKind.SINGLE, audience=person.full_name
        )
    except services.RollCallError as error:
        messages.error(request, error.messages[0])
        return redirect("rollcall_admin_person", person.pk)
    _started(request, result)
    if result.targets and not result.not_possible:
        return redirect("rollcall_admin_target", result.targets[0].pk)
    return redirect("rollcall_admin_person", person.pk)


@require_GET
@caller_required
def call_detail(request, pk: int):
    call = RollCall.objects.select_related("started_by").filter(pk=pk).first()
    targets = list(
        RollCallTarget.objects.visible_to(request.user)
        .filter(call_id=pk)
        .select_related("person__office")
        .order_by("person__full_name", "pk")
    )
    if call is None or not targets:
        raise Http404
    record_access(request, action=Action.VIEW, obj=call, detail=f"{len(targets)} targets")
    counts = {state.label: 0 for state in TargetState}
    for target in targets:
        counts[target.get_state_display()] += 1
    return render(
        request,
        "rollcall/admin/call.html",
        {
            "call": call,
            "targets": targets,
            "counts": [(k, v) for k, v in counts.items() if v],
            "labels": {
                "states": {s.value: str(s.label) for s in TargetState},
                "results": {r.value: str(r.label) for r in Result},
            },
        },
    )


@require_GET
@caller_required
def target_detail(request, pk: int):
    target = services.access_target_for_staff(request.user, pk, request=request)
    now = timezone.now()
    return render(
        request,
        "rollcall/admin/target.html",
        {
            "target": target,
            "open_now": target.is_open and now < target.closes_at + services.STAFF_GRACE,
            "confirm_form": ConfirmForm(),
            "excuse_form": ExcuseForm(),
            "script_url": script_url(),
            "seconds_left": max(0, int((target.deadline - now).total_seconds())),
        },
    )


@require_POST
@caller_required
def target_join(request, pk: int):
    target = services.access_target_for_staff(request.user, pk, request=request)
    try:
        embed = services.do_join(request.user, target, moderator=True)
    except services.CallEnded as ended:
        return JsonResponse({"error": "ended", "message": ended.messages[0]}, status=409)
    return JsonResponse({"embed": embed})


@require_POST
@caller_required
def target_confirm(request, pk: int):
    target = services.access_target_for_staff(request.user, pk, request=request)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what you saw."))
        return redirect("rollcall_admin_target", target.pk)
    try:
        services.do_confirm(
            target,
            request.user,
            confirmation=form.cleaned_data["confirmation"],
            note=form.cleaned_data["note"],
        )
    except services.RollCallError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Confirmation saved."))
    return redirect("rollcall_admin_target", target.pk)


@require_POST
@caller_required
def target_excuse(request, pk: int):
    target = services.access_target_for_staff(request.user, pk, request=request)
    form = ExcuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please say why the roll-call is excused."))
        return redirect("rollcall_admin_target", target.pk)
    try:
        services.do_excuse(target, request.user, note=form.cleaned_data["note"])
    except services.RollCallError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The roll-call is excused."))
    return redirect("rollcall_admin_target", target.pk)


@require_http_methods(["GET", "POST"])
def policy(request):
    """Administrators read and change the versioned rules with a form (a change is a new
    version; the same rules again add nothing)."""
    if not services.may_edit_policy(request.user):
        raise deny(request, "roll-call policy needs an administrator")
    current = services.current_policy()
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                saved = services.do_create_policy_version(
                    form.rules(), note=form.cleaned_data["note"], by=request.user
                )
            except services.PolicyUnchanged as error:
                messages.info(request, error.messages[0])
                return redirect("rollcall_admin_policy")
            except ValidationError as error:
                form.add_error(None, error.messages[0])
            else:
                messages.success(
                    request,
                    _("Saved as version %(v)d; it is in use now.") % {"v": saved.version},
                )
                return redirect("rollcall_admin_policy")
    else:
        form = PolicyForm(initial=PolicyForm.initial_from(current.rules))
    return render(
        request,
        "rollcall/admin/policy.html",
        {
            "form": form,
            "current": current,
            "current_json": json.dumps(current.rules, indent=2, ensure_ascii=False),
            "versions": list(RollCallPolicy.objects.order_by("-version")[:20]),
            "restore_form": RestoreForm(),
        },
    )


@require_POST
def policy_restore(request, version: int):
    """Make an earlier version current again (as a new version, with a note)."""
    if not services.may_edit_policy(request.user):
        raise deny(request, "roll-call policy needs an administrator")
    earlier = get_object_or_404(RollCallPolicy, version=version)
    form = RestoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say in a few words what changed; nothing was saved."))
        return redirect("rollcall_admin_policy")
    try:
        saved = services.do_restore_policy(earlier, note=form.cleaned_data["note"], by=request.user)
    except services.PolicyUnchanged as error:
        messages.info(request, error.messages[0])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("Version %(old)d is in use again, saved as version %(new)d.")
            % {"old": earlier.version, "new": saved.version},
        )
    return redirect("rollcall_admin_policy")
