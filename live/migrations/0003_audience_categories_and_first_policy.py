"""The three supervision categories a lecture can address, and attendance policy version 1.

Version 1's rules: present for at least 90 % of the scheduled time, late when joining more
than 10 minutes after the start, left early when leaving more than 10 minutes before the
end, and at least half of the presence checks answered (``live.attendance.PolicyRules``).
"""

from django.db import migrations

CATEGORIES = ["strict", "normal", "lenient"]
FIRST_RULES = {
    "min_presence_ratio": 0.9,
    "late_after_minutes": 10,
    "left_early_before_minutes": 10,
    "min_checks_ratio": 0.5,
}


def create(apps, schema_editor):
    AudienceCategory = apps.get_model("live", "AudienceCategory")
    AttendancePolicy = apps.get_model("live", "AttendancePolicy")
    for code in CATEGORIES:
        AudienceCategory.objects.get_or_create(code=code)
    if not AttendancePolicy.objects.exists():
        AttendancePolicy.objects.create(
            version=1, rules=FIRST_RULES, active=True, note="初始规则 / first rules"
        )


class Migration(migrations.Migration):
    dependencies = [("live", "0002_lectures_attendance_makeups")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
