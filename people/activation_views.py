"""Activation codes: the officer issues one (admin), the person uses it (public, phone first).

Thin callers of ``people/activation.py``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access
from people import activation
from people.services import access_person_for_user
from people.twofactor import qr_code_data_uri

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_POST
@permission_required("people.add_activationcode")
def issue(request, pk: int):
    """Issue (or reissue) a person's activation code and show it once, with its QR code."""
    person = access_person_for_user(request.user, pk, request=request)
    reissue = person.user.has_usable_password() or person.activation_codes.exists()
    row, code = activation.do_issue_activation_code(person, issued_by=request.user)
    record_access(
        request,
        action=Action.CHANGE,
        obj=row,
        person_id=person.pk,
        detail="activation code reissued" if reissue else "activation code issued",
    )
    username = person.user.get_username()
    url = request.build_absolute_uri(activation.activation_path(login=username, code=code))
    delivery = None
    if activation.sms_is_configured():
        masked_url = request.build_absolute_uri(activation.activation_path(login=username))
        delivery = activation.do_send_activation_sms(row, code, url, masked_url)
    response = render(
        request,
        "people/admin/activation_issued.html",
        {
            "person": person,
            "code": activation.format_code(code),
            "row": row,
            "qr_code": qr_code_data_uri(url),
            "activation_url": request.build_absolute_uri(activation.activation_path()),
            "username": username,
            "reissue": reissue,
            "sms_configured": activation.sms_is_configured(),
            "delivery": delivery,
            "hours": int(activation.VALIDITY.total_seconds() // 3600),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


class ActivationForm(forms.Form):
    login = forms.CharField(
        label=gettext_lazy("Login name or mobile number"),
        max_length=150,
        help_text=gettext_lazy("It is on the slip your justice office gave you."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Activation code (8 digits)"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "20"}
        ),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("Choose a password"),
        strip=False,
        max_length=128,
        help_text=gettext_lazy(
            "At least 8 characters, not only digits. You will use it every time you sign in."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("Type the password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error(
                "new_password2", _("The two passwords are not the same. Please type them again.")
            )
        return data


@never_cache
@sensitive_post_parameters("code", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def activate(request):
    """The person types login name (or phone), code and a new password, and is signed in."""
    error = None
    if request.method != "POST":
        form = ActivationForm(
            initial={
                "login": request.GET.get("login", "")[:150],
                "code": request.GET.get("code", "")[:20],
            }
        )
        return render(request, "people/activate.html", {"form": form})

    form = ActivationForm(request.POST)
    if form.is_valid():
        login_name = form.cleaned_data["login"]
        try:
            row = activation.check_activation_code(login_name, form.cleaned_data["code"])
        except activation.ActivationError as exc:
            error = str(exc)
            record_access(
                request,
                action=Action.LOGIN_FAILED,
                username=login_name,
                object_type="people.activationcode",
                success=False,
                detail="activation code refused",
            )
        else:
            user = row.person.user
            password = form.cleaned_data["new_password1"]
            try:
                validate_password(password, user)
            except ValidationError as exc:
                form.add_error("new_password1", exc)
            else:
                try:
                    done = activation.do_activate(row, password)
                except activation.ActivationError as exc:
                    error = str(exc)
                else:
                    login(request, done.user, backend=MODEL_BACKEND)
                    record_access(
                        request,
                        action=Action.CHANGE,
                        obj=done.code,
                        person_id=row.person_id,
                        detail="activation code used: password set",
                    )
                    messages.success(
                        request,
                        _(
                            "Your password is set and you are signed in. Welcome! Next time, "
                            "sign in with your login name and this password."
                        ),
                    )
                    return redirect("/")
    return render(request, "people/activate.html", {"form": form, "error": error}, status=400)
