"""Staff accounts in the Wagtail admin, for administrators: who has an authenticator app, and
the reset of a lost one. Thin callers of ``people/staff_accounts.py``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.decorators import permission_required
from audit.models import Action
from audit.services import record_access
from people.roles import Role, roles_of
from people.staff_accounts import (
    access_staff_account_for_user,
    do_reset_two_factor,
    has_authenticator,
    staff_accounts_visible_to,
)
from people.twofactor import remaining_recovery_codes

RESET_PERMISSION = "people.reset_two_factor"


def _role_labels(user) -> str:
    labels = [str(Role(name).label) for name in sorted(roles_of(user))]
    return "、".join(labels) or "—"


@permission_required(RESET_PERMISSION)
def staff_list(request):
    accounts = staff_accounts_visible_to(request.user).select_related("office").order_by("username")
    with_device = set(
        accounts.filter(totpdevice__confirmed=True).values_list("pk", flat=True).distinct()
    )
    rows = [
        {"account": a, "roles": _role_labels(a), "has_authenticator": a.pk in with_device}
        for a in accounts
    ]
    return render(request, "people/admin/staff_list.html", {"rows": rows})


@permission_required(RESET_PERMISSION)
def staff_detail(request, pk: int):
    account = access_staff_account_for_user(request.user, pk)
    return render(
        request,
        "people/admin/staff_detail.html",
        {
            "account": account,
            "roles": _role_labels(account),
            "has_authenticator": has_authenticator(account),
            "recovery_codes": remaining_recovery_codes(account),
            "is_self": account.pk == request.user.pk,
        },
    )


@require_POST
@permission_required(RESET_PERMISSION)
def staff_reset_two_factor(request, pk: int):
    """Remove the account's authenticator app and recovery codes (logged)."""
    account = access_staff_account_for_user(request.user, pk)
    if account.pk == request.user.pk:
        # Your own device is changed by another administrator: one person alone cannot
        # both hold a stolen password and remove the second step.
        messages.error(request, _("Ask another administrator to reset your own authenticator."))
        return redirect("people_staff_detail", pk=account.pk)
    removed = do_reset_two_factor(account)
    record_access(
        request,
        action=Action.CHANGE,
        obj=account,
        detail=f"authenticator reset ({removed} devices removed)",
    )
    messages.success(
        request,
        _(
            "The authenticator of %(name)s was reset. At the next sign-in they set up a new "
            "authenticator app on their phone."
        )
        % {"name": account.get_full_name()},
    )
    return redirect("people_staff_detail", pk=account.pk)
