"""Revoking a certificate (Wagtail admin, administrators only): a page showing the
certificate and a form asking for the reason. Registered in ``wagtail_hooks.py``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from audit.decorators import deny
from audit.services import access_logged
from learning.certificates import (
    REASON_MAX,
    CertificateError,
    do_revoke_certificate,
    format_code,
    may_revoke,
)
from learning.models import Certificate


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the certificate revoked?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required. Kept in the record and the access log; the public check shows only "
            "that the certificate was revoked and when."
        ),
    )


def _back(certificate: Certificate) -> str:
    url = reverse("learning_enrollment_list")
    return f"{url}?{urlencode({'course': certificate.course_id})}" if certificate.course_id else url


@require_http_methods(["GET", "POST"])
def certificate_revoke(request, pk: int):
    """Administrators revoke a certificate of a person in their scope (404 outside it, logged;
    other staff are refused before the lookup, so existence never shows)."""
    if not may_revoke(request.user):
        raise deny(request, "revoking a certificate: administrators only")
    scoped = Certificate.objects.visible_to(request.user).select_related("person", "revoked_by")
    certificate = access_logged(request, request.user, scoped, pk, person_field="person_id")
    form = RevokeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                do_revoke_certificate(
                    certificate, request.user, form.cleaned_data["reason"], request=request
                )
            except CertificateError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("The certificate of %(name)s for “%(course)s” is revoked.")
                    % {"name": certificate.person_name, "course": certificate.course_title},
                )
                return redirect(_back(certificate))
        status = 400
    return render(
        request,
        "learning/admin/certificate_revoke.html",
        {
            "certificate": certificate,
            "formatted_code": format_code(certificate.code),
            "form": form,
            "back": _back(certificate),
        },
        status=status,
    )


urlpatterns = [
    path(
        "learning/certificates/<int:pk>/revoke/",
        certificate_revoke,
        name="learning_certificate_revoke",
    ),
]
