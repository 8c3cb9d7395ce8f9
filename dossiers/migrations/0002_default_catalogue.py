"""Load the shipped default catalogue (``dossiers/catalogue/default_v1.json``) as version 1.

The file is read as data, not through the app's code; ``tests/dossiers/test_catalogue.py``
checks it against the schema.
"""

import json
from pathlib import Path

from django.db import migrations

DEFAULTS = Path(__file__).resolve().parent.parent / "catalogue" / "default_v1.json"


def load(apps, schema_editor):
    Catalogue = apps.get_model("dossiers", "Catalogue")
    if Catalogue.objects.exists():
        return
    Catalogue.objects.create(
        version=1,
        definition=json.loads(DEFAULTS.read_text(encoding="utf-8")),
        note="随系统提供的默认清单",
    )


def unload(apps, schema_editor):
    Catalogue = apps.get_model("dossiers", "Catalogue")
    Catalogue.objects.filter(version=1, dossiers__isnull=True, note="随系统提供的默认清单").delete()


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_files_catalogue_and_reviews")]

    operations = [migrations.RunPython(load, unload)]
