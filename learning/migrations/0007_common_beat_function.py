"""``learning_common_beat``: a common heartbeat in one statement on PostgreSQL.

The function's text is ``learning/heartbeat/common_beat.sql`` (read from that file by its
path: a migration imports no app code), the twin of ``learning.heartbeat.rule.decide_beat``
with the common path's writes. Other databases: nothing to create.
"""

from pathlib import Path

from django.db import migrations

FUNCTION_FILE = Path(__file__).resolve().parent.parent / "heartbeat" / "common_beat.sql"

DROP = """
DROP FUNCTION IF EXISTS learning_common_beat(
    bigint, bigint, text, timestamptz, interval, interval, bigint, numeric,
    text, text, date, text, text, timestamptz
);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_FILE.read_text(encoding="utf-8"))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0006_participation_month_index"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
