from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from learning import admin_views, enrollment_views
from learning.models import EnrollmentRule, StudyQuota
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


class EnrollmentMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(enrollment_views.ADD_ENROLLMENT)


@hooks.register("register_admin_menu_item")
def register_enrollment_menu_item():
    return EnrollmentMenuItem(
        _("Course enrollments"),
        reverse("learning_enrollment_list"),
        icon_name="folder-open-inverse",
        order=305,
    )


# --- Study progress (learning/admin_views.py): officers, counselors, administrators ---------


class ProgressMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.VIEW_PERMISSION)


@hooks.register("register_admin_urls")
def register_progress_urls():
    return admin_views.urlpatterns


@hooks.register("register_admin_menu_item")
def register_progress_menu_item():
    return ProgressMenuItem(
        _("Study progress"), reverse("learning_progress"), icon_name="clipboard-list", order=310
    )
