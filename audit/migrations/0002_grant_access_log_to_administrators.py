from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="audit", codename="view_accessevent")
    group, _ = Group.objects.get_or_create(name="administrator")
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="audit", codename="view_accessevent")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_access_log"),
        ("people", "0002_create_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
