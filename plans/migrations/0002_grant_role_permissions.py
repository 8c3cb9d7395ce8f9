"""Counselors edit and approve plans of their caseload, officers read plans and record intake
facts, administrators edit the plan rules (see ``people/roles.py``).

``plans.view_bureau_plans`` is deliberately granted to no role: an administrator sees the
plans of the whole bureau only after it is granted to them explicitly.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "counselor": ["view_plan", "change_plan"],
    "officer": ["view_plan", "add_intakefacts"],
    "administrator": ["view_planruleset", "change_planruleset"],
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
            *Permission.objects.filter(content_type__app_label="plans", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="plans", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0001_assistance_plans"),
        ("people", "0002_create_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
