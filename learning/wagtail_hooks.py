from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from learning import admin_views, dashboard_views, enrollment_views
from learning.models import EnrollmentRule, FollowUpPolicy, ReminderTemplate, StudyQuota
from lib.admin_menu import AdminMenuItem
from people.roles import Role, roles_of


class AdministratorsOnly(ModelPermissionPolicy):
    """Quotas are bureau policy: administrators (and superusers) edit them, nobody else."""

    def user_has_permission(self, user, action):
        return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))

    def user_has_any_permission(self, user, actions):
        return self.user_has_permission(user, None)

    def users_with_any_permission(self, actions):
        from people.models import User

        return User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)


register_permission_policy(StudyQuota, AdministratorsOnly(StudyQuota))
register_permission_policy(EnrollmentRule, AdministratorsOnly(EnrollmentRule))


class StudyQuotaViewSet(ModelViewSet):
    model = StudyQuota
    form_fields = ["category", "hours"]
    list_display = ["category", "hours"]
    icon = "time"
    menu_label = _("Monthly study quotas")
    add_to_admin_menu = True
    menu_order = 320
    name = "study_quotas"
    url_prefix = "study-quotas"
    copy_view_enabled = False
    inspect_view_enabled = False


@hooks.register("register_admin_viewset")
def register_study_quota_viewset():
    return StudyQuotaViewSet()


# --- Enrollment and certificates (learning/enrollment_views.py) ------------------------------


@hooks.register("register_admin_viewset")
def register_enrollment_rule_viewset():
    return enrollment_views.EnrollmentRuleViewSet()


@hooks.register("register_admin_urls")
def register_enrollment_urls():
    return enrollment_views.urlpatterns


@hooks.register("register_admin_urls")
def register_certificate_urls():
    from learning import certificate_views

    return certificate_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_enrollment_menu_item():
    return AdminMenuItem(
        _("Course enrollments"),
        reverse("learning_enrollment_list"),
        icon_name="folder-open-inverse",
        order=305,
        permission=enrollment_views.ADD_ENROLLMENT,
    )


# --- Study progress (learning/admin_views.py): officers, counselors, administrators ---------


@hooks.register("register_admin_urls")
def register_progress_urls():
    return admin_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_progress_menu_item():
    return AdminMenuItem(
        _("Study progress"),
        reverse("learning_progress"),
        icon_name="clipboard-list",
        order=310,
        permission=admin_views.VIEW_PERMISSION,
    )


# --- Participation dashboards (learning/dashboard_views.py): officers and administrators ----


@hooks.register("register_admin_urls")
def register_participation_urls():
    return dashboard_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_participation_menu_item():
    return AdminMenuItem(
        _("Participation rate"),
        reverse("learning_participation"),
        icon_name="doc-full",
        order=308,
        permission=dashboard_views.VIEW_PERMISSION,
    )


@hooks.register("construct_homepage_panels")
def add_participation_home_panel(request, panels):
    dashboard_views.home_panels(request, panels)


# --- Excused absences (learning/absence_views.py): officers and administrators -------------


@hooks.register("register_admin_urls")
def register_absence_urls():
    from learning import absence_views

    return absence_views.admin_urlpatterns


@hooks.register("register_admin_menu_item")
def register_absence_menu_item():
    from learning.absences import may_handle, pending_count

    return AdminMenuItem(
        _("Leave requests"),
        reverse("learning_absence_queue"),
        icon_name="date",
        order=306,
        shown_to=may_handle,
        count=pending_count,
        label_with_count=_("Leave requests (%(count)s)"),
    )


# --- Follow-up (learning/followup_views.py): officers and administrators; texts and policy
# are administrators' -----------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_followup_urls():
    from learning import followup_views

    return followup_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_followup_menu_item():
    from learning.followup import can_follow_up

    return AdminMenuItem(
        _("People to follow up"),
        reverse("learning_followup_list"),
        icon_name="warning",
        order=304,
        shown_to=can_follow_up,
    )


register_permission_policy(ReminderTemplate, AdministratorsOnly(ReminderTemplate))
register_permission_policy(FollowUpPolicy, AdministratorsOnly(FollowUpPolicy))


@hooks.register("register_admin_viewset")
def register_reminder_text_viewset():
    from learning.followup_views import ReminderTemplateViewSet

    return ReminderTemplateViewSet()


@hooks.register("register_admin_viewset")
def register_follow_up_policy_viewset():
    from learning.followup_views import FollowUpPolicyViewSet

    return FollowUpPolicyViewSet()


# --- Participation reports (learning/report_views.py): officers and administrators ----------


@hooks.register("register_admin_urls")
def register_report_urls():
    from learning import report_views

    return report_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_reports_menu_item():
    from learning.report_views import REPORT_PERMISSION

    return AdminMenuItem(
        _("Reports"),
        reverse("learning_reports"),
        icon_name="doc-full",
        order=312,
        permission=REPORT_PERMISSION,
    )
