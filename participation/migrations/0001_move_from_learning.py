"""The participation models move here from ``learning`` with their tables (state only: the
tables keep their ``learning_`` names), and their content types follow, so permissions and
admin log entries name the new app."""

import django.db.models.deletion
import lib.storage
import participation.models
from django.conf import settings
from django.db import migrations, models

MOVED = [
    'absencerequest', 'followup', 'followuppolicy', 'followupstep', 'officemonth',
    'participationrecord', 'personmonth', 'remindertemplate', 'reportfile', 'studyquota',
]


def _relabel(apps, old, new):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    taken = set(ContentType.objects.filter(app_label=new, model__in=MOVED).values_list('model', flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(MOVED) - taken).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, 'learning', 'participation')


def backwards(apps, schema_editor):
    _relabel(apps, 'participation', 'learning')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('learning', '0007_common_beat_function'),
        ('people', '0005_person_phone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StudyQuota',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('category', models.CharField(choices=[('strict', 'Strict (严管)'), ('normal', 'Normal (普管)'), ('lenient', 'Lenient (宽管)')], max_length=10, unique=True, verbose_name='supervision category')),
                        ('hours', models.DecimalField(decimal_places=1, default=8, max_digits=5, verbose_name='hours a month')),
                    ],
                    options={
                        'verbose_name': 'monthly study quota',
                        'verbose_name_plural': 'monthly study quotas',
                        'db_table': 'learning_studyquota',
                        'ordering': ['category'],
                    },
                ),
                migrations.CreateModel(
                    name='FollowUp',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.DateField(verbose_name='month')),
                        ('requirement_key', models.CharField(max_length=64, verbose_name='requirement')),
                        ('requirement', models.CharField(blank=True, max_length=255, verbose_name='requirement title')),
                        ('stage', models.CharField(choices=[('reminded', 'Person reminded'), ('officer', 'With the case officer'), ('admin', 'Escalated to the administrator'), ('resolved', 'Resolved')], default='reminded', max_length=10, verbose_name='stage')),
                        ('opened_at', models.DateTimeField(verbose_name='opened at')),
                        ('last_reminded_on', models.DateField(blank=True, null=True, verbose_name='last reminded on')),
                        ('officer_task_at', models.DateTimeField(blank=True, null=True, verbose_name='task given at')),
                        ('officer_due', models.DateField(blank=True, null=True, verbose_name='officer to act by')),
                        ('officer_acted_at', models.DateTimeField(blank=True, null=True, verbose_name='officer acted at')),
                        ('officer_note', models.TextField(blank=True, verbose_name='what the officer did')),
                        ('escalated_at', models.DateTimeField(blank=True, null=True, verbose_name='escalated at')),
                        ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='resolved at')),
                        ('resolution', models.CharField(blank=True, max_length=200, verbose_name='how it ended')),
                        ('officer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='follow_up_tasks', to=settings.AUTH_USER_MODEL, verbose_name='case officer')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='follow_ups', to='people.person', verbose_name='person')),
                    ],
                    options={
                        'verbose_name': 'follow-up',
                        'verbose_name_plural': 'follow-ups',
                        'db_table': 'learning_followup',
                        'ordering': ['-opened_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='FollowUpPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at_risk_days_left', models.PositiveSmallIntegerField(default=7, verbose_name='remind when this many days are left in the month')),
                        ('officer_after_days', models.PositiveSmallIntegerField(default=3, verbose_name='days after the first reminder before the case officer gets a task')),
                        ('administrator_after_days', models.PositiveSmallIntegerField(default=5, verbose_name='days the case officer has before the administrator is told')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'follow-up policy',
                        'verbose_name_plural': 'follow-up policy',
                        'db_table': 'learning_followuppolicy',
                    },
                ),
                migrations.CreateModel(
                    name='FollowUpStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=30, verbose_name='step')),
                        ('at', models.DateTimeField(verbose_name='at')),
                        ('detail', models.JSONField(blank=True, default=dict, verbose_name='detail')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('follow_up', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='participation.followup')),
                    ],
                    options={
                        'verbose_name': 'follow-up step',
                        'verbose_name_plural': 'follow-up steps',
                        'db_table': 'learning_followupstep',
                        'ordering': ['follow_up', 'at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='OfficeMonth',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.DateField(verbose_name='month')),
                        ('category', models.CharField(choices=[('strict', 'Strict (严管)'), ('normal', 'Normal (普管)'), ('lenient', 'Lenient (宽管)')], max_length=10, verbose_name='supervision category')),
                        ('persons', models.PositiveIntegerField(default=0, verbose_name='persons')),
                        ('met', models.PositiveIntegerField(default=0, verbose_name='met')),
                        ('excused', models.PositiveIntegerField(default=0, verbose_name='excused')),
                        ('at_risk', models.PositiveIntegerField(default=0, verbose_name='at risk')),
                        ('missed', models.PositiveIntegerField(default=0, verbose_name='missed')),
                        ('computed_at', models.DateTimeField(verbose_name='computed at')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.office')),
                    ],
                    options={
                        'verbose_name': 'office-month',
                        'verbose_name_plural': 'office-months',
                        'db_table': 'learning_officemonth',
                    },
                ),
                migrations.CreateModel(
                    name='ParticipationRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.DateField(verbose_name='month')),
                        ('source', models.CharField(choices=[('lesson', 'Lesson'), ('lecture', 'Lecture'), ('makeup', 'Makeup'), ('excused', 'Excused'), ('course', 'Course completed')], max_length=10, verbose_name='source')),
                        ('requirement_key', models.CharField(max_length=64, verbose_name='requirement')),
                        ('requirement', models.CharField(blank=True, max_length=255, verbose_name='requirement title')),
                        ('minutes', models.PositiveIntegerField(default=0, verbose_name='minutes')),
                        ('status', models.CharField(choices=[('in_progress', 'In progress'), ('completed', 'Completed'), ('excused', 'Excused')], default='in_progress', max_length=12, verbose_name='status')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='participation', to='people.person')),
                    ],
                    options={
                        'verbose_name': 'participation record',
                        'verbose_name_plural': 'participation records',
                        'db_table': 'learning_participationrecord',
                    },
                ),
                migrations.CreateModel(
                    name='PersonMonth',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.DateField(verbose_name='month')),
                        ('category', models.CharField(choices=[('strict', 'Strict (严管)'), ('normal', 'Normal (普管)'), ('lenient', 'Lenient (宽管)')], max_length=10, verbose_name='supervision category')),
                        ('status', models.CharField(choices=[('met', 'Met'), ('excused', 'Excused'), ('at_risk', 'At risk'), ('missed', 'Missed')], max_length=10, verbose_name='status')),
                        ('required', models.PositiveIntegerField(default=0, verbose_name='requirements')),
                        ('met', models.PositiveIntegerField(default=0, verbose_name='met')),
                        ('excused', models.PositiveIntegerField(default=0, verbose_name='excused')),
                        ('missing', models.JSONField(blank=True, default=list, verbose_name='what is missing')),
                        ('study_minutes', models.PositiveIntegerField(default=0, verbose_name='study minutes')),
                        ('quota_minutes', models.PositiveIntegerField(default=0, verbose_name='quota minutes')),
                        ('computed_at', models.DateTimeField(verbose_name='computed at')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.office')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.person')),
                    ],
                    options={
                        'verbose_name': 'person-month',
                        'verbose_name_plural': 'person-months',
                        'db_table': 'learning_personmonth',
                    },
                ),
                migrations.CreateModel(
                    name='ReminderTemplate',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('learner_at_risk', 'To the person: not yet done this month'), ('learner_missed', 'To the person: missed'), ('officer_task', 'To the case officer: please follow up'), ('administrator', 'To the administrator: follow-up overdue')], max_length=20, unique=True, verbose_name='kind')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('body', models.TextField(verbose_name='text')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'reminder text',
                        'verbose_name_plural': 'reminder texts',
                        'db_table': 'learning_remindertemplate',
                        'ordering': ['kind'],
                    },
                ),
                migrations.CreateModel(
                    name='ReportFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=40, verbose_name='report')),
                        ('params', models.JSONField(default=dict, verbose_name='parameters')),
                        ('requested_at', models.DateTimeField(verbose_name='requested at')),
                        ('status', models.CharField(choices=[('queued', 'Waiting'), ('running', 'Being prepared'), ('ready', 'Ready'), ('failed', 'Failed')], default='queued', max_length=10, verbose_name='status')),
                        ('progress', models.PositiveIntegerField(default=0, verbose_name='done')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='to do')),
                        ('file', models.FileField(blank=True, max_length=200, storage=lib.storage.private_storage, upload_to='reports/%Y/%m/', verbose_name='file')),
                        ('filename', models.CharField(blank=True, max_length=200, verbose_name='file name')),
                        ('error', models.CharField(blank=True, max_length=300, verbose_name='error')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='report_files', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'report file',
                        'verbose_name_plural': 'report files',
                        'db_table': 'learning_reportfile',
                        'ordering': ['-requested_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='AbsenceRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.DateField(verbose_name='month')),
                        ('requirement_key', models.CharField(max_length=64, verbose_name='requirement')),
                        ('requirement', models.CharField(blank=True, max_length=255, verbose_name='requirement title')),
                        ('reason', models.TextField(verbose_name='reason')),
                        ('evidence', models.FileField(blank=True, max_length=200, storage=lib.storage.private_storage, upload_to=participation.models.absence_evidence_path, verbose_name='evidence')),
                        ('evidence_type', models.CharField(blank=True, max_length=40, verbose_name='evidence type')),
                        ('filed_at', models.DateTimeField(verbose_name='filed at')),
                        ('status', models.CharField(choices=[('pending', 'Waiting for a decision'), ('approved', 'Approved'), ('rejected', 'Not approved'), ('withdrawn', 'Withdrawn')], default='pending', max_length=10, verbose_name='status')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                        ('decision_note', models.TextField(blank=True, verbose_name='decision note')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('filed_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='filed by')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='absences', to='people.person', verbose_name='person')),
                    ],
                    options={
                        'verbose_name': 'absence request',
                        'verbose_name_plural': 'absence requests',
                        'db_table': 'learning_absencerequest',
                        'ordering': ['-filed_at', '-pk'],
                        'indexes': [models.Index(fields=['status', 'filed_at'], name='learning_ab_status_f69660_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['pending', 'approved'])), fields=('person', 'period', 'requirement_key'), name='absence_one_open_per_requirement'), models.CheckConstraint(condition=models.Q(('period__day', 1)), name='absence_period_month')],
                    },
                ),
                migrations.AddIndex(
                    model_name='followup',
                    index=models.Index(fields=['stage', 'officer_due'], name='learning_fo_stage_d19ae8_idx'),
                ),
                migrations.AddConstraint(
                    model_name='followup',
                    constraint=models.UniqueConstraint(fields=('person', 'period', 'requirement_key'), name='follow_up_unique'),
                ),
                migrations.AddIndex(
                    model_name='officemonth',
                    index=models.Index(fields=['period', 'office'], name='learning_of_period_4f84d4_idx'),
                ),
                migrations.AddConstraint(
                    model_name='officemonth',
                    constraint=models.UniqueConstraint(fields=('office', 'period', 'category'), name='office_month_unique'),
                ),
                migrations.AddIndex(
                    model_name='participationrecord',
                    index=models.Index(fields=['person', 'period'], name='learning_pa_person__d2f390_idx'),
                ),
                migrations.AddIndex(
                    model_name='participationrecord',
                    index=models.Index(fields=['period', 'person', 'requirement_key'], name='participation_month'),
                ),
                migrations.AddConstraint(
                    model_name='participationrecord',
                    constraint=models.UniqueConstraint(fields=('person', 'source', 'requirement_key', 'period'), name='participation_unique'),
                ),
                migrations.AddConstraint(
                    model_name='participationrecord',
                    constraint=models.CheckConstraint(condition=models.Q(('period__day', 1)), name='participation_period_month'),
                ),
                migrations.AddIndex(
                    model_name='personmonth',
                    index=models.Index(fields=['period', 'office', 'status'], name='learning_pe_period_99c854_idx'),
                ),
                migrations.AddIndex(
                    model_name='personmonth',
                    index=models.Index(fields=['office', 'period'], name='learning_pe_office__16a48f_idx'),
                ),
                migrations.AddConstraint(
                    model_name='personmonth',
                    constraint=models.UniqueConstraint(fields=('person', 'period'), name='person_month_unique'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
