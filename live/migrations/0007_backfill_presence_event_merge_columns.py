"""Fill the ``merge_*`` columns of the presence events stored before they existed.

The same rule as ``live.models.merge_fields``, through ``live.attendance.stored_form`` (a
pure function; no model is imported): the columns must hold exactly what the recompute would
read from the body, and each row records the ``STORED_VERSION`` that wrote it (a later change
of the reading rules makes the recompute read those bodies again). Rows it cannot fill keep a
NULL version and are read from their body, so the backfill changes no result.
"""

from django.db import migrations

BATCH = 1000


def fill(apps, schema_editor):
    from live.attendance import PARTICIPANT_KINDS, STORED_VERSION, stored_form

    PresenceEvent = apps.get_model("live", "PresenceEvent")
    names = [
        "merge_version",
        "merge_kind",
        "merge_at",
        "merge_joined_at",
        "merge_scope",
        "merge_connection",
        "merge_key",
    ]
    unfilled = PresenceEvent.objects.filter(merge_version__isnull=True).order_by("pk")
    last = 0
    while True:
        # a materialised page at a time: SQLite must not write to a table it is iterating
        page = list(unfilled.filter(pk__gt=last).values_list("pk", "user_id", "payload")[:BATCH])
        if not page:
            break
        last = page[-1][0]
        batch = []
        for pk, user_id, payload in page:
            form = stored_form(payload) if isinstance(payload, dict) else None
            if form is None or (form.kind in PARTICIPANT_KINDS and form.user != user_id):
                continue  # read from its body, as before
            batch.append(
                PresenceEvent(
                    pk=pk,
                    merge_version=STORED_VERSION,
                    merge_kind=form.kind,
                    merge_at=form.at,
                    merge_joined_at=form.joined_at,
                    merge_scope=form.scope,
                    merge_connection=form.connection,
                    merge_key=form.key,
                )
            )
        PresenceEvent.objects.bulk_update(batch, names, batch_size=200)


class Migration(migrations.Migration):
    dependencies = [("live", "0006_presence_event_merge_columns")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
