"""The learner-facing privacy notice page (``/privacy/``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from people.privacy import (
    acknowledgement_of,
    current_notice,
    do_acknowledge,
    person_of,
    privacy_url,
)


def _safe_next(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@csrf_protect
@require_http_methods(["GET", "POST"])
def privacy_notice(request):
    notice = current_notice()
    person = person_of(request.user)
    if request.method == "POST":
        return _acknowledge(request, notice, person)
    language = get_language()
    acknowledgement = acknowledgement_of(person, notice) if person and notice else None
    return render(
        request,
        "people/privacy_notice.html",
        {
            "notice": notice,
            "notice_title": notice.title_for(language) if notice else "",
            "notice_body": notice.body_for(language) if notice else "",
            "person": person,
            "acknowledgement": acknowledgement,
            "next": _safe_next(request, request.GET.get("next", "")),
        },
    )


def _acknowledge(request, notice, person):
    # Only a supervised person confirms, and only for themself: nobody else has a button.
    if not request.user.is_authenticated:
        return redirect_to_login(privacy_url())
    if person is None or notice is None:
        raise Http404("Nothing to acknowledge")
    next_url = _safe_next(request, request.POST.get("next", ""))
    if request.POST.get("version") != str(notice.version):
        # The notice changed after the page was opened: show the new text first.
        messages.info(
            request, _("The privacy notice has been updated. Please read the new version.")
        )
        return redirect(privacy_url(next_url or None))
    do_acknowledge(person, request, notice=notice)
    messages.success(request, _("Thank you. You have confirmed that you read the privacy notice."))
    return redirect(next_url or privacy_url())
