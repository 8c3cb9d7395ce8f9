"""Administrators see population statistics (counts only) and edit the schedule
(``people/roles.py``). Results themselves still need ``assessments.view_result``."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "administrator": [
        "view_statistics",
        "view_schedulerule",
        "add_schedulerule",
        "change_schedulerule",
        "delete_schedulerule",
    ]
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
            *Permission.objects.filter(content_type__app_label="assessments", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="assessments", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_default_schedule_rules"),
        ("people", "0002_create_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
