from django.db import migrations

# The shipped rules as they were at this migration (never read from live code).
FIRST_RULES = {
    "answer_within_minutes": 5,
    "late_within_minutes": 15,
    "sms_after_seconds": 60,
    "failed_confirmations": ["not_the_person", "no_video"],
    "escalate_after_hours": 24,
    "min_gap_hours": 24,
    "working_hours": {"start": "09:00:00", "end": "17:00:00", "weekdays": [1, 2, 3, 4, 5]},
    "spot_checks": {
        "strict": {"count": 2, "per": "week"},
        "normal": {"count": 1, "per": "week"},
        "lenient": {"count": 2, "per": "month"},
    },
}


def create(apps, schema_editor):
    Policy = apps.get_model("rollcall", "RollCallPolicy")
    if not Policy.objects.exists():
        Policy.objects.create(version=1, rules=FIRST_RULES, active=True, note="初始规则 / first rules")


class Migration(migrations.Migration):
    dependencies = [("rollcall", "0001_roll_calls")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
