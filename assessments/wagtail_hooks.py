from __future__ import annotations

from django import forms
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from assessments import admin_views
from assessments.models import VIEW_STATISTICS, ScheduleRule, loaded_questionnaires
from assessments.panels import EscalatedAlertsPanel, OpenAlertsPanel, ReviewQueuePanel
from lib.admin_columns import YesNoColumn
from lib.admin_menu import AdminMenuItem
from people.roles import Role, home_roles


@hooks.register("register_admin_urls")
def register_assessment_urls():
    return [
        path(
            "assessments/queue/",
            admin_views.ReviewQueueView.as_view(),
            name="assessments_review_queue",
        ),
        path(
            "assessments/queue/results/",
            admin_views.ReviewQueueView.as_view(results_only=True),
            name="assessments_review_queue_results",
        ),
        path(
            "assessments/results/<int:pk>/",
            admin_views.result_detail,
            name="assessments_result_detail",
        ),
        path(
            "assessments/results/<int:pk>/pdf/",
            admin_views.result_pdf_view,
            name="assessments_result_pdf",
        ),
        path("assessments/assign/", admin_views.assign, name="assessments_assign"),
        path("assessments/statistics/", admin_views.statistics, name="assessments_statistics"),
        path(
            "assessments/statistics/export/",
            admin_views.statistics_export,
            name="assessments_statistics_export",
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_review_menu_item():
    return AdminMenuItem(
        _("Questionnaire reviews"),
        reverse("assessments_review_queue"),
        name="questionnaire-reviews",
        icon_name="clipboard-list",
        order=220,
        shown_to=admin_views.may_see_results,
    )


@hooks.register("construct_homepage_panels")
def add_questionnaire_home_panels(request, panels):
    roles = home_roles(request.user)
    if Role.COUNSELOR in roles:
        # First on a counselor's home, above every other panel (lowest ``order``).
        panels.append(OpenAlertsPanel(request.user))
        panels.append(ReviewQueuePanel(request.user))
    if Role.ADMINISTRATOR in roles:
        panels.append(EscalatedAlertsPanel(request.user))


@hooks.register("insert_global_admin_js")
def alert_socket_js():
    # Listens on ws/me/ and shows a banner when an alert is pushed (see taking._raise_alert).
    return format_html('<script src="{}" defer></script>', static("assessments/admin_alerts.js"))


@hooks.register("register_admin_menu_item")
def register_statistics_menu_item():
    return AdminMenuItem(
        _("Questionnaire statistics"),
        reverse("assessments_statistics"),
        name="questionnaire-statistics",
        icon_name="table",
        order=230,
        permission=VIEW_STATISTICS,
    )


class ScheduleRuleIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().with_instrument_title()


class ScheduleRuleViewSet(ModelViewSet):
    """Administrators edit the automatic schedule (Settings → Questionnaire schedule)."""

    model = ScheduleRule
    index_view_class = ScheduleRuleIndexView
    url_prefix = "assessments/schedule"
    icon = "calendar-check"
    menu_label = _("Questionnaire schedule")
    menu_name = "questionnaire-schedule"
    add_to_settings_menu = True
    form_fields = ["instrument_slug", "trigger", "window_days", "interval_months", "active"]
    # The questionnaire's name, not its short code (gad7, phq9), for the administrator.
    list_display = [
        "instrument_name",
        "trigger",
        "window_days",
        "interval_months",
        YesNoColumn("active", model=ScheduleRule),
    ]
    list_filter = ["trigger", "active"]

    def formfield_for_dbfield(self, db_field, **kwargs):
        # The questionnaire chosen by its name from the loaded ones, not typed as a code.
        if db_field.name == "instrument_slug":
            return forms.TypedChoiceField(
                label=db_field.verbose_name,
                choices=lambda: [("", "---------"), *loaded_questionnaires()],
                help_text=_("The questionnaires loaded on this site, by name."),
            )
        return super().formfield_for_dbfield(db_field, **kwargs)


schedule_rule_viewset = ScheduleRuleViewSet("assessments_schedule")


@hooks.register("register_admin_viewset")
def register_schedule_rule_viewset():
    return schedule_rule_viewset
