from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("live", "0004_grant_lecture_permissions"),
        ("plans", "0003_default_rule_set"),
    ]

    operations = [
        migrations.AddField(
            model_name="intervention",
            name="assignment_created",
            field=models.BooleanField(default=False, verbose_name="retest assigned by the plan"),
        ),
        migrations.AddField(
            model_name="intervention",
            name="lectures",
            field=models.ManyToManyField(
                blank=True, related_name="+", to="live.lecture", verbose_name="lectures"
            ),
        ),
    ]
