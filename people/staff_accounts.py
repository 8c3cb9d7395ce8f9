"""Staff accounts as administrators see them, and the reset of a lost authenticator app.

A staff member who lost the phone with their authenticator app cannot pass the second
sign-in step (people/twofactor.py). An administrator (permission ``people.reset_two_factor``,
no superuser needed) removes their TOTP device and recovery codes; at the next sign-in the
staff member sets up a new app (``RequireStaffOTPMiddleware`` sends them to the setup page),
and a session that passed the second step with the old device no longer counts as verified.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from people.models import User
from people.roles import STAFF_ROLES, Role, roles_of


def staff_accounts_visible_to(user) -> QuerySet[User]:
    """Staff accounts an administrator manages: those working in the administrator's office
    subtree, and staff tied to no office (lecturers usually are). Never superusers, whose
    accounts only another superuser manages; a superuser sees every staff account."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return User.objects.none()
    staff = User.objects.filter(
        Q(groups__name__in=STAFF_ROLES) | Q(is_staff=True) | Q(is_superuser=True)
    ).distinct()
    if user.is_superuser:
        return staff
    if Role.ADMINISTRATOR not in roles_of(user) or user.office_id is None:
        return User.objects.none()
    return staff.filter(
        Q(office__path__startswith=user.office.path) | Q(office__isnull=True),
        is_superuser=False,
    )


def access_staff_account_for_user(user, pk: int) -> User:
    """The staff account ``pk`` if ``user`` manages it; otherwise 404."""
    try:
        return staff_accounts_visible_to(user).select_related("office").get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("No such staff account") from None


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def do_reset_two_factor(account: User) -> int:
    """Remove ``account``'s authenticator devices and recovery codes; returns how many devices
    were removed. Its next sign-in asks it to set up a new authenticator app."""
    totp = TOTPDevice.objects.filter(user=account)
    recovery = StaticDevice.objects.filter(user=account)
    removed = totp.count() + recovery.count()
    totp.delete()
    recovery.delete()  # cascades to the recovery codes
    return removed
