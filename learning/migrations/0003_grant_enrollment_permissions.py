"""Officers and administrators enroll persons in courses and remove enrollments (see
``people/roles.py``). Auto-enrollment rules are administrators' by role
(``learning.wagtail_hooks.AdministratorsOnly``), not by permission."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "officer": ["add_enrollment", "delete_enrollment"],
    "administrator": ["add_enrollment", "delete_enrollment"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="learning", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="learning", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0002_enrollment_rules_and_certificates"),
        ("people", "0002_create_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
