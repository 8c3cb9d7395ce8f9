"""Wagtail permission policies by role, for models that belong to one role whatever the
Django permissions say."""

from __future__ import annotations

from wagtail.permission_policies import ModelPermissionPolicy

from people.models import User
from people.roles import Role, roles_of


class AdministratorsOnly(ModelPermissionPolicy):
    """Bureau policy (quotas, rules, reminder texts): administrators (and superusers) edit it,
    nobody else."""

    def user_has_permission(self, user, action):
        return bool(user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user)))

    def user_has_any_permission(self, user, actions):
        return self.user_has_permission(user, None)

    def users_with_any_permission(self, actions):
        return User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR)
