"""Ship privacy notice version 1 and let administrators export a person's data.

The notice text is copied here as it stood when this migration was written; later versions
are new rows (a new migration or the Django admin), never edits of this one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

TITLE_ZH = "我们如何保护您的个人信息"
TITLE_EN = "How we look after your information"

BODY_ZH = """\
您好！在社区矫正期间，您会在这个平台上学习法律、参加讲座、填写心理问卷。下面用简单的话告诉您：我们保存您的哪些信息、为什么保存、谁能看到、保存多久，以及您可以做什么。

一、我们保存哪些信息
· 您的学习时间和课程进度；
· 您参加讲座的出勤情况；
· 您填写的心理问卷的答案和结果；
· 为您制定的帮扶计划。
心理问卷的答案和结果属于敏感个人信息，我们会格外小心地保护。

二、为什么保存
依照《中华人民共和国社区矫正法》，司法所和司法局要在社区矫正期间对您进行教育帮扶。保存这些信息，是为了了解您的学习和心理状况，及时给您需要的支持，帮助您顺利回归社会。这些信息不会用于别的目的。

三、谁能看到
· 负责您的心理咨询师：能看到您的问卷答案和结果，以便为您提供心理支持；
· 您的矫正工作人员：能看到您的学习和讲座参加情况，以及帮扶计划摘要，看不到您的问卷答案；
· 司法局的系统管理员：负责管理平台；
· 除此以外，没有人能看到。除非法律另有规定，我们不会把您的信息提供给您的家人、单位或其他任何人。每一次查看您的记录，系统都会留下记录。

四、保存多久
矫正期间，您的信息一直保存；矫正结束后，按照本省社区矫正档案管理的规定保存到期限届满。平台的访问记录至少保存六个月。具体期限以司法局公布的规定为准。

五、您可以做什么
您可以随时请您的矫正工作人员帮您查看平台保存的关于您的信息；如果发现有错误，可以请他们更正。有任何疑问，也可以直接问他们。

点击下面的按钮，只表示您已经读过并理解了这份说明。"""

BODY_EN = """\
Hello! During your community corrections you will use this platform to study the law, attend lectures and fill in wellbeing questionnaires. Here, in plain words, is what information we keep about you, why, who can see it, how long we keep it, and what you can do.

1. What we keep
· your study time and course progress;
· your attendance at lectures;
· your answers to the wellbeing questionnaires and their results;
· the assistance plans made for you.
Questionnaire answers and results are sensitive personal information, and we take special care of them.

2. Why we keep it
Under the Community Corrections Law of the People's Republic of China, your justice office and the justice bureau must give you education and support during community corrections. We keep this information to understand how your studies and wellbeing are going, to give you the support you need in good time, and to help you return smoothly to everyday life. It is not used for anything else.

3. Who can see it
· the counselors responsible for you see your questionnaire answers and results, so that they can support you;
· your case officer sees your study and lecture participation and a summary of your plan, but never your questionnaire answers;
· the bureau's administrators, who run the platform;
· nobody else. Unless the law requires it, we do not give your information to your family, your employer or anyone else. Every time someone opens your record, the system writes it down.

4. How long we keep it
Your information is kept while you are under community corrections, and afterwards for the archive period set by the province's community-corrections case-file rules. The platform's access log is kept for at least six months. The exact periods are the ones published by the justice bureau.

5. What you can do
You can ask your case officer at any time to show you the information the platform holds about you, and to correct anything that is wrong. If you have any questions, just ask them.

Pressing the button below only means that you have read and understood this notice."""


def ship_notice_and_grant(apps, schema_editor):
    # Permissions are normally created after all migrations run; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    PrivacyNotice = apps.get_model("people", "PrivacyNotice")
    PrivacyNotice.objects.get_or_create(
        version=1,
        defaults={
            "title": TITLE_ZH,
            "title_en": TITLE_EN,
            "body_zh": BODY_ZH,
            "body_en": BODY_EN,
            "published_at": timezone.now(),
        },
    )

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="people", codename="export_person_data"
    )
    group, _ = Group.objects.get_or_create(name="administrator")
    group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_privacy_notice"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(ship_notice_and_grant, migrations.RunPython.noop)]
