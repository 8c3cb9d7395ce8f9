"""Staff accounts in the Wagtail admin, for administrators: who has an authenticator app, and
the reset of a lost one. Thin callers of ``people/staff_accounts.py``."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from audit.decorators import deny, permission_required
from audit.models import Action
from audit.services import record_access
from lib.admin_columns import ForgivingFiltersMixin, IdentifiedRowsTable, LinkColumn
from people.filters import office_filter
from people.models import User
from people.roles import STAFF_ROLES, Role, roles_of
from people.staff_accounts import (
    access_staff_account_for_user,
    do_reset_two_factor,
    has_authenticator,
    staff_accounts_visible_to,
)
from people.twofactor import remaining_recovery_codes

RESET_PERMISSION = "people.reset_two_factor"
PAGE_SIZE = 50


class StaffTable(IdentifiedRowsTable):
    row_prefix = "staff"


def _role_labels(user) -> str:
    labels = [str(Role(name).label) for name in sorted(roles_of(user))]
    return "、".join(labels) or "—"


STAFF_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in STAFF_ROLES]
AUTHENTICATOR_CHOICES = [("yes", gettext_lazy("Set up")), ("no", gettext_lazy("Not set up"))]


class StaffFilterSet(WagtailFilterSet):
    """A staff role, one of the caller's own offices, whether the authenticator is set up."""

    role = django_filters.ChoiceFilter(
        label=gettext_lazy("Role"), choices=STAFF_ROLE_CHOICES, field_name="groups__name"
    )
    office = office_filter()
    authenticator = django_filters.ChoiceFilter(
        label=gettext_lazy("Authenticator app"),
        choices=AUTHENTICATOR_CHOICES,
        method="filter_authenticator",
    )

    class Meta:
        model = User
        fields: list[str] = []

    def filter_authenticator(self, queryset, name, value):
        return queryset.filter(has_authenticator=value == "yes")


def _staff_url(account) -> str:
    return reverse("people_staff_detail", args=[account.pk])


def _account_roles(account) -> str:
    """The role labels of an account listed with ``role_groups`` prefetched (no query)."""
    labels = [str(Role(group.name).label) for group in account.role_groups]
    return "、".join(sorted(labels)) or "—"


def _authenticator(account) -> str:
    return _("Set up") if account.has_authenticator else _("Not set up")


class StaffIndexView(ForgivingFiltersMixin, generic.IndexView):
    """The staff accounts the administrator manages (``staff_accounts_visible_to``): search by
    sign-in or real name, filters by role, office and authenticator, ordering by column; the
    administrators' spreadsheet export is logged (``audit.wagtail_exports``). Roles and the
    authenticator are read for the whole page in two queries, not per row."""

    model = User
    any_permission_required = None  # people.reset_two_factor: checked in dispatch
    permission_policy = None
    index_url_name = "people_staff_list"
    index_results_url_name = "people_staff_list_results"
    template_name = "people/admin/staff_list.html"
    results_template_name = "includes/index_results.html"
    page_title = gettext_lazy("Staff accounts")
    header_icon = "user"
    paginate_by = PAGE_SIZE
    filterset_class = StaffFilterSet
    table_class = StaffTable
    search_fields = ["username", "name"]
    search_backend_name = None
    default_ordering = "username"
    columns = [
        LinkColumn(
            "username",
            label=gettext_lazy("Login name"),
            sort_key="username",
            get_url=_staff_url,
            link_testid=lambda account: f"open-staff-{account.pk}",
        ),
        Column(
            "name",
            label=gettext_lazy("Name"),
            accessor=lambda account: account.get_full_name() or "—",
            sort_key="name",
        ),
        Column(
            "office",
            label=gettext_lazy("Office"),
            accessor=lambda account: account.office.name if account.office_id else "—",
            sort_key="office__path",
        ),
        Column("roles", label=gettext_lazy("Roles"), accessor=_account_roles),
        Column(
            "authenticator",
            label=gettext_lazy("Authenticator app"),
            accessor=_authenticator,
            sort_key="has_authenticator",
        ),
    ]
    list_export = ["username", "name", "office", "roles", "authenticator"]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "staff-accounts"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(RESET_PERMISSION):
            raise deny(request, f"{request.method} needs {RESET_PERMISSION}")
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            staff_accounts_visible_to(self.request.user)
            .select_related("office")
            .annotate(has_authenticator=Exists(confirmed))
            .prefetch_related(
                Prefetch(
                    "groups",
                    queryset=Group.objects.filter(name__in=STAFF_ROLES).order_by("name"),
                    to_attr="role_groups",
                )
            )
        )

    def order_queryset(self, queryset):
        # pk last: pages stay stable when many accounts share a name or an office
        return queryset.order_by(self.ordering, "pk")

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "staff-list"}}

    def to_row_dict(self, item):
        return {column.name: column.get_value(item) for column in self.columns}

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["no_results_testid"] = "no-staff"
        return context

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No staff account matches. Clear the search or the filters to see everyone.")
        return _(
            "No staff accounts to show. An account appears here once it holds a staff role "
            "in your offices: give it the role under System → Users."
        )


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
