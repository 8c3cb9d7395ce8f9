"""Lecturers run their own lectures; officers and lecturers may correct attendance; the
administrators plan lectures and edit the attendance policy (see ``people/roles.py``)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "lecturer": [
        "add_lecture",
        "change_lecture",
        "view_lecture",
        "view_attendance",
        "change_attendance",
    ],
    "officer": ["view_lecture", "view_attendance", "change_attendance"],
    "administrator": [
        "add_lecture",
        "change_lecture",
        "view_lecture",
        "view_attendance",
        "add_attendancepolicy",
        "change_attendancepolicy",
        "view_attendancepolicy",
    ],
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
            *Permission.objects.filter(content_type__app_label="live", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="live", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0003_audience_categories_and_first_policy"),
        ("people", "0002_create_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
