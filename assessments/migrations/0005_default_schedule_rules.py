"""The default automatic schedule (administrators change it in Settings → Questionnaire
schedule): PHQ-9 and GAD-7 — short, free, with published change norms (``norms.py``) — at
intake (within 7 days of the start of supervision), every 3 months (14 days to answer) and in
the last 30 days before supervision ends."""

from django.db import migrations

DEFAULTS = [
    (slug, trigger, window, interval)
    for slug in ("phq9", "gad7")
    for trigger, window, interval in (
        ("intake", 7, None),
        ("periodic", 14, 3),
        ("exit", 30, None),
    )
]


def create(apps, schema_editor):
    ScheduleRule = apps.get_model("assessments", "ScheduleRule")
    for slug, trigger, window, interval in DEFAULTS:
        ScheduleRule.objects.get_or_create(
            instrument_slug=slug,
            trigger=trigger,
            defaults={"window_days": window, "interval_months": interval, "active": True},
        )


def remove(apps, schema_editor):
    ScheduleRule = apps.get_model("assessments", "ScheduleRule")
    for slug, trigger, _window, _interval in DEFAULTS:
        ScheduleRule.objects.filter(instrument_slug=slug, trigger=trigger).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0004_schedule_rules_and_statistics_permission")]

    operations = [migrations.RunPython(create, remove)]
