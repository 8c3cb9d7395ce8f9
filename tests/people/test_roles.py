from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.roles import ROLE_PERMISSIONS, Role, sync_role_groups

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_with_declared_permissions():
    for role in Role.values:
        group = Group.objects.get(name=role)
        actual = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert actual == set(ROLE_PERMISSIONS[role]), role


def test_learners_cannot_access_the_admin():
    assert "wagtailadmin.access_admin" not in ROLE_PERMISSIONS[Role.LEARNER]


def held(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_puts_the_role_groups_back_to_the_declared_table():
    Group.objects.get(name=Role.LECTURER).delete()
    officers = Group.objects.get(name=Role.OFFICER)
    officers.permissions.add(
        Permission.objects.get_by_natural_key("delete_person", "people", "person")
    )
    counselors = Group.objects.get(name=Role.COUNSELOR)
    counselors.permissions.remove(
        Permission.objects.get_by_natural_key("view_person", "people", "person")
    )
    result_readers = Group.objects.create(name="result readers")
    view_result = Permission.objects.get_by_natural_key("view_result", "assessments", "result")
    result_readers.permissions.add(view_result)

    call_command("migrate", verbosity=0, interactive=False)

    for role in Role.values:
        assert held(role) == set(ROLE_PERMISSIONS[role]), role
    assert list(result_readers.permissions.all()) == [view_result]  # not a role: left alone


def test_migrate_grants_a_permission_whose_model_came_in_the_same_run():
    # As on a fresh database: Django's own post_migrate receiver has not yet created the
    # plans app's permissions when the people app's receiver runs.
    Permission.objects.get_by_natural_key("add_intakefacts", "plans", "intakefacts").delete()
    assert "plans.add_intakefacts" not in held(Role.OFFICER)

    call_command("migrate", verbosity=0, interactive=False)

    assert "plans.add_intakefacts" in held(Role.OFFICER)


def test_a_second_sync_writes_nothing():
    Group.objects.get(name=Role.EDITOR).permissions.clear()
    sync_role_groups()
    with CaptureQueriesContext(connection) as queries:
        sync_role_groups()
    assert held(Role.EDITOR) == set(ROLE_PERMISSIONS[Role.EDITOR])
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
