"""Load the shipped default plan rules (``plans/rules/default_v1.json``) as version 1.

The file is read as data, not through the app's code; ``tests/plans/test_rules.py`` checks it
against the schema and the instrument library. Later defaults ship as new files loaded with
``python manage.py load_plan_rules FILE``, which makes a new version once v1 has been used.
"""

import json
from pathlib import Path

from django.db import migrations

DEFAULTS = Path(__file__).resolve().parent.parent / "rules" / "default_v1.json"


def load(apps, schema_editor):
    PlanRuleSet = apps.get_model("plans", "PlanRuleSet")
    if PlanRuleSet.objects.exists():
        return
    PlanRuleSet.objects.create(
        version=1,
        rules=json.loads(DEFAULTS.read_text(encoding="utf-8")),
        note="Shipped defaults",
    )


def unload(apps, schema_editor):
    PlanRuleSet = apps.get_model("plans", "PlanRuleSet")
    PlanRuleSet.objects.filter(version=1, plans__isnull=True, note="Shipped defaults").delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_grant_role_permissions")]

    operations = [migrations.RunPython(load, unload)]
