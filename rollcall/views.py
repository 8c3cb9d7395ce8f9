"""The person's pages (phone first, ``/rollcall/``): the incoming call and past roll-calls.

``/rollcall/<id>/`` is the full-screen call page the ``ws/me/`` push opens
(``static/rollcall/ring.js``); "Join" posts to ``/rollcall/<id>/join/``, which answers the
Jitsi embed settings as JSON (a short-lived token for the one-to-one room), or 409 with a
message once the call is over. Another person's call answers 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from live.jitsi import script_url
from rollcall.models import RollCallTarget, TargetState
from rollcall.services import CallEnded, access_target_for_learner, do_join

PAST_SHOWN = 50


@require_GET
@login_required
def my_roll_calls(request):
    targets = list(
        RollCallTarget.objects.filter(person__user=request.user).order_by("-rung_at", "-pk")[
            :PAST_SHOWN
        ]
    )
    return render(request, "rollcall/mine.html", {"targets": targets})


@require_GET
@login_required
def call_page(request, pk: int):
    target = access_target_for_learner(request.user, pk)
    now = timezone.now()
    open_now = target.is_open and now < target.closes_at
    return render(
        request,
        "rollcall/call.html",
        {
            "target": target,
            "open_now": open_now,
            "ringing": target.state == TargetState.RINGING and open_now,
            "seconds_left": max(0, int((target.deadline - now).total_seconds())),
            "closes_in": max(0, int((target.closes_at - now).total_seconds())),
            "script_url": script_url(),
        },
    )


@require_POST
def join(request, pk: int):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_signed_in"}, status=403)
    target = access_target_for_learner(request.user, pk)
    try:
        embed = do_join(request.user, target, moderator=False)
    except CallEnded as ended:
        return JsonResponse({"error": "ended", "message": ended.messages[0]}, status=409)
    return JsonResponse({"embed": embed})
