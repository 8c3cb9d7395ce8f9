"""The participation models now live in ``participation`` (its migration 0001 took them over
with their tables): removed from this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('learning', '0007_common_beat_function'),
        ('participation', '0001_move_from_learning'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='absencerequest',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='absencerequest',
                    name='filed_by',
                ),
                migrations.RemoveField(
                    model_name='absencerequest',
                    name='person',
                ),
                migrations.RemoveField(
                    model_name='followup',
                    name='officer',
                ),
                migrations.RemoveField(
                    model_name='followup',
                    name='person',
                ),
                migrations.RemoveField(
                    model_name='followupstep',
                    name='follow_up',
                ),
                migrations.RemoveField(
                    model_name='followuppolicy',
                    name='updated_by',
                ),
                migrations.RemoveField(
                    model_name='followupstep',
                    name='actor',
                ),
                migrations.RemoveField(
                    model_name='officemonth',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='participationrecord',
                    name='person',
                ),
                migrations.RemoveField(
                    model_name='personmonth',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='personmonth',
                    name='person',
                ),
                migrations.RemoveField(
                    model_name='remindertemplate',
                    name='updated_by',
                ),
                migrations.RemoveField(
                    model_name='reportfile',
                    name='requested_by',
                ),
                migrations.DeleteModel(
                    name='StudyQuota',
                ),
                migrations.DeleteModel(
                    name='AbsenceRequest',
                ),
                migrations.DeleteModel(
                    name='FollowUp',
                ),
                migrations.DeleteModel(
                    name='FollowUpPolicy',
                ),
                migrations.DeleteModel(
                    name='FollowUpStep',
                ),
                migrations.DeleteModel(
                    name='OfficeMonth',
                ),
                migrations.DeleteModel(
                    name='ParticipationRecord',
                ),
                migrations.DeleteModel(
                    name='PersonMonth',
                ),
                migrations.DeleteModel(
                    name='ReminderTemplate',
                ),
                migrations.DeleteModel(
                    name='ReportFile',
                ),
            ],
            database_operations=[],
        ),
    ]
