from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from lib.admin_menu import AdminMenuItem
from participation.absences import may_handle, pending_count
from participation.followup import can_follow_up
from participation.models import FollowUpPolicy, ReminderTemplate, StudyQuota
from participation.panels import (
    BureauParticipationPanel,
    OfficerTodayPanel,
    OverdueFollowUpsPanel,
)
from participation.views import absences as absence_views
from participation.views import dashboards as dashboard_views
from participation.views import followup as followup_views
from participation.views import reports as report_views
from people.policies import AdministratorsOnly
from people.roles import Role, home_roles

register_permission_policy(StudyQuota, AdministratorsOnly(StudyQuota))
register_permission_policy(ReminderTemplate, AdministratorsOnly(ReminderTemplate))
register_permission_policy(FollowUpPolicy, AdministratorsOnly(FollowUpPolicy))


class StudyQuotaViewSet(ModelViewSet):
    model = StudyQuota
    form_fields = ["category", "hours"]
    list_display = ["category", "hours"]
    icon = "time"
    menu_label = _("Monthly study quotas")
    menu_name = "monthly-study-quotas"
    add_to_admin_menu = True
    menu_order = 320
    name = "study_quotas"
    url_prefix = "study-quotas"
    copy_view_enabled = False
    inspect_view_enabled = False


@hooks.register("register_admin_viewset")
def register_study_quota_viewset():
    return StudyQuotaViewSet()


# --- Participation dashboards (views/dashboards.py): officers and administrators -----------


@hooks.register("register_admin_urls")
def register_participation_urls():
    return dashboard_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_participation_menu_item():
    return AdminMenuItem(
        _("Participation rate"),
        reverse("learning_participation"),
        name="participation-rate",
        icon_name="doc-full",
        order=308,
        permission=dashboard_views.VIEW_PERMISSION,
    )


@hooks.register("construct_homepage_panels")
def add_participation_home_panels(request, panels):
    roles = home_roles(request.user)
    if Role.OFFICER in roles:
        panels.append(OfficerTodayPanel(request.user))
        panels.append(dashboard_views.NotYetCompletePanel(request.user))
    if Role.ADMINISTRATOR in roles:
        panels.append(BureauParticipationPanel(request.user))
        panels.append(OverdueFollowUpsPanel(request.user))


# --- Excused absences (views/absences.py): officers and administrators ---------------------


@hooks.register("register_admin_urls")
def register_absence_urls():
    return absence_views.admin_urlpatterns


@hooks.register("register_admin_menu_item")
def register_absence_menu_item():
    return AdminMenuItem(
        _("Leave requests"),
        reverse("learning_absence_queue"),
        name="leave-requests",
        icon_name="date",
        order=306,
        shown_to=may_handle,
        count=pending_count,
        label_with_count=_("Leave requests (%(count)s)"),
    )


# --- Follow-up (views/followup.py): officers and administrators; texts and policy are
# administrators' ----------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_followup_urls():
    return followup_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_followup_menu_item():
    return AdminMenuItem(
        _("People to follow up"),
        reverse("learning_followup_list"),
        name="people-to-follow-up",
        icon_name="warning",
        order=304,
        shown_to=can_follow_up,
    )


@hooks.register("register_admin_viewset")
def register_reminder_text_viewset():
    return followup_views.ReminderTemplateViewSet()


@hooks.register("register_admin_viewset")
def register_follow_up_policy_viewset():
    return followup_views.FollowUpPolicyViewSet()


# --- Participation reports (views/reports.py): officers and administrators -----------------


@hooks.register("register_admin_urls")
def register_report_urls():
    return report_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_reports_menu_item():
    return AdminMenuItem(
        _("Reports"),
        reverse("learning_reports"),
        name="participation-reports",
        icon_name="doc-full",
        order=312,
        permission=report_views.REPORT_PERMISSION,
    )
