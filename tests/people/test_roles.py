from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from people.roles import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_with_declared_permissions():
    for role in Role.values:
        group = Group.objects.get(name=role)
        actual = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert actual == set(ROLE_PERMISSIONS[role]), role


def test_learners_cannot_access_the_admin():
    assert "wagtailadmin.access_admin" not in ROLE_PERMISSIONS[Role.LEARNER]
