"""Staff read their notifications inside the Wagtail admin (``wagtail_hooks.py``);
administrators read the delivery log of text messages and emails."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic

from audit.decorators import deny
from audit.models import Action
from audit.services import record_access
from lib.admin_columns import (
    ForgivingFiltersMixin,
    IdentifiedRowsTable,
    PlainDateColumn,
    ShortListMixin,
)
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.senders import mask_address
from notifications.services import do_mark_all_read, do_mark_read
from notifications.views import inbox_items
from people.filters import office_filter
from people.models import Person
from people.roles import Role, roles_of


@require_http_methods(["GET", "POST"])
def admin_inbox(request):
    """GET lists the user's own notifications; POST ``action=open`` + ``pk`` marks one read
    and follows its link, ``action=read_all`` marks all read. Another user's id: 404."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "open":
            notification = do_mark_read(request.user, request.POST.get("pk"))
            return redirect(notification.safe_url or "notifications_admin_inbox")
        if action == "read_all":
            if do_mark_all_read(request.user):
                messages.success(request, _("All messages are marked as read."))
            return redirect("notifications_admin_inbox")
    items = inbox_items(request.user)
    return render(
        request,
        "notifications/admin/inbox.html",
        {"notifications": items, "has_unread": any(n.read_at is None for n in items)},
    )


# --- The delivery log (administrators) --------------------------------------------------------

DELIVERY_PAGE_SIZE = 50


def can_read_delivery_log(user) -> bool:
    return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))


def deliveries_visible_to(user):
    """Deliveries to persons the administrator may see, or to staff of their office subtree;
    a superuser sees all."""
    if not can_read_delivery_log(user):
        return Delivery.objects.none()
    if user.is_superuser:
        return Delivery.objects.all()
    scope = Q(recipient__person__in=Person.objects.visible_to(user))
    if user.office_id:
        scope |= Q(recipient__office__path__startswith=user.office.path)
    return Delivery.objects.filter(scope)


class DeliveryFilterSet(WagtailFilterSet):
    """Status, channel, and one of the caller's own offices (the recipient person's office,
    or the staff recipient's)."""

    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"), choices=DeliveryStatus.choices
    )
    channel = django_filters.ChoiceFilter(
        label=gettext_lazy("Channel"),
        choices=[(Channel.SMS, Channel.SMS.label), (Channel.EMAIL, Channel.EMAIL.label)],
    )
    office = office_filter(method="filter_office")

    class Meta:
        model = Delivery
        fields: list[str] = []

    def filter_office(self, queryset, name, value):
        return queryset.filter(Q(recipient__person__office=value) | Q(recipient__office=value))


def _recipient(delivery: Delivery) -> str:
    return delivery.recipient.get_full_name() if delivery.recipient_id else "—"


def _masked(delivery: Delivery) -> str:
    return mask_address(delivery.channel, delivery.address) or "—"


class DeliveryTable(IdentifiedRowsTable):
    row_prefix = "delivery"


class DeliveryLogView(ForgivingFiltersMixin, ShortListMixin, generic.IndexView):
    """Every text message and email sent (or not) to the caller's scope
    (``deliveries_visible_to``), newest first, with its attempts; search by the recipient's
    name or case number and the subject, filters by status, channel and office, ordering by
    column. Addresses are masked, on the page and in the administrators' logged export
    (``audit.wagtail_exports``). Administrators only (a refusal is logged); each view of a
    page is in the access log."""

    model = Delivery
    any_permission_required = None  # can_read_delivery_log: checked in dispatch
    permission_policy = None
    index_url_name = "notifications_delivery_log"
    index_results_url_name = "notifications_delivery_log_results"
    results_template_name = "includes/index_results.html"
    page_title = gettext_lazy("Text messages and emails")
    header_icon = "mail"
    paginate_by = DELIVERY_PAGE_SIZE
    filterset_class = DeliveryFilterSet
    table_class = DeliveryTable
    search_fields = [
        "recipient__name",
        "recipient__username",
        "recipient__person__case_number",
        "subject",
    ]
    search_backend_name = None
    default_ordering = "-created_at"
    columns = [
        PlainDateColumn("created_at", label=gettext_lazy("Created"), format="Y-m-d H:i"),
        Column("recipient", label=gettext_lazy("Recipient"), accessor=_recipient),
        Column("channel", label=gettext_lazy("Channel"), accessor="get_channel_display"),
        Column("address", label=gettext_lazy("Sent to"), accessor=_masked),
        Column(
            "subject",
            label=gettext_lazy("Subject"),
            accessor=lambda delivery: Truncator(delivery.subject).chars(40),
        ),
        Column(
            "status", label=gettext_lazy("Status"), accessor="get_status_display", sort_key="status"
        ),
        Column("attempts", label=gettext_lazy("Attempts"), sort_key="attempts"),
        Column(
            "last_error",
            label=gettext_lazy("Last error"),
            accessor=lambda delivery: delivery.last_error or "—",
        ),
        Column(
            "provider_id",
            label=gettext_lazy("Gateway message id"),
            accessor=lambda delivery: delivery.provider_id or "—",
        ),
        PlainDateColumn("sent_at", label=gettext_lazy("Sent at"), format="Y-m-d H:i"),
    ]
    list_export = [column.name for column in columns]
    export_headings = {column.name: column.label for column in columns}
    export_filename = "text-messages-and-emails"

    def dispatch(self, request, *args, **kwargs):
        if not can_read_delivery_log(request.user):
            raise deny(request, "delivery log: administrators only")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if not self.is_export:  # an export is logged as one (``audit.wagtail_exports``)
            record_access(
                request,
                action=Action.VIEW,
                object_type="notifications.delivery",
                detail=f"delivery log page {self.page.number}, {len(self.page.object_list)} rows",
            )
        return response

    def get_base_queryset(self):
        return deliveries_visible_to(self.request.user).select_related("recipient")

    def order_queryset(self, queryset):
        # pk last, the same way: stable pages among messages created in the same instant
        last = "-pk" if self.ordering.startswith("-") else "pk"
        return queryset.order_by(self.ordering, last)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, others = super().paginate_queryset(queryset, page_size)
        page.object_list = list(page.object_list)
        self.page = page  # for the access log's line
        return paginator, page, page.object_list, others

    def to_row_dict(self, item):
        row = {column.name: column.get_value(item) for column in self.columns}
        row["subject"] = item.subject  # whole in the export
        return row

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "attrs": {"data-testid": "delivery-log"}}

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["no_results_testid"] = "no-deliveries"
        return context

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return _("No message matches. Clear the search or the filters to see every message.")
        return _(
            "No messages to show. Text messages and emails appear here once reminders or "
            "notices are sent to persons or staff in your offices."
        )
