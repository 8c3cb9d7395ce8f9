from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from learning.models import StudyQuota
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
