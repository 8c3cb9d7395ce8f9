"""The content-editor role, media rights, and the course-review workflow.

Lecturers author course pages and submit them for review; editors and administrators approve
and publish. A copy of the tables in ``courses/services.py`` and ``people/roles.py`` as they
stood when this migration was written; ``tests/courses/test_moderation.py`` checks that this
migration and ``courses.services.ensure_course_permissions`` produce the same grants.

On a fresh database the course index does not exist yet (``seed_demo`` or an administrator
creates it, and both call ``ensure_course_permissions``); existing indexes are set up here.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    "wagtailadmin.access_admin",
    "wagtailimages.choose_image",
    "wagtaildocs.choose_document",
]
COURSE_PAGE_PERMISSIONS = {
    "lecturer": ["add", "change"],
    "editor": ["add", "change", "publish", "lock", "unlock"],
    "administrator": ["add", "change", "publish", "lock", "unlock"],
}
_EDIT_MEDIA = [
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
]
MEDIA_PERMISSIONS = {
    "lecturer": [
        "wagtailimages.add_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.choose_document",
    ],
    "editor": _EDIT_MEDIA,
    "administrator": _EDIT_MEDIA,
}
REVIEWERS = ["editor", "administrator"]
WORKFLOW_NAME = "课程审核 / Course review"
TASK_NAME = "编辑审批 / Editor approval"


def _permission(apps, dotted):
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def set_up(apps, schema_editor):
    # Permissions are normally created after all migrations run; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    CourseIndexPage = apps.get_model("courses", "CourseIndexPage")

    editor, _ = Group.objects.get_or_create(name="editor")
    editor.permissions.add(*(_permission(apps, dotted) for dotted in EDITOR_PERMISSIONS))

    root = Collection.objects.get(depth=1)
    for role, perms in MEDIA_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root, permission=_permission(apps, dotted)
            )

    # The historical model does not fill in its content type (Task.__init__ does that live).
    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task = GroupApprovalTask.objects.filter(name=TASK_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(
            name=TASK_NAME, content_type=task_type, active=True
        )
    task.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in REVIEWERS))
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME, active=True)
    if not WorkflowTask.objects.filter(workflow=workflow, task=task).exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)

    for index in CourseIndexPage.objects.all():
        for role, kinds in COURSE_PAGE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role)
            for kind in kinds:
                GroupPagePermission.objects.get_or_create(
                    group=group,
                    page_id=index.pk,
                    permission=_permission(apps, f"wagtailcore.{kind}_page"),
                )
        if not WorkflowPage.objects.filter(page_id=index.pk).exists():
            WorkflowPage.objects.create(page_id=index.pk, workflow=workflow)


def tear_down(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Task = apps.get_model("wagtailcore", "Task")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    CourseIndexPage = apps.get_model("courses", "CourseIndexPage")
    index_ids = list(CourseIndexPage.objects.values_list("pk", flat=True))
    GroupPagePermission.objects.filter(
        group__name__in=COURSE_PAGE_PERMISSIONS, page_id__in=index_ids
    ).delete()
    for role, perms in MEDIA_PERMISSIONS.items():
        for dotted in perms:
            GroupCollectionPermission.objects.filter(
                group__name=role, collection__depth=1, permission=_permission(apps, dotted)
            ).delete()
    # Deleting the workflow removes its WorkflowPage and WorkflowTask rows.
    Workflow.objects.filter(name=WORKFLOW_NAME).delete()
    Task.objects.filter(name=TASK_NAME).delete()
    Group.objects.filter(name="editor").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_course_pages"),
        ("people", "0002_create_role_groups"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [migrations.RunPython(set_up, tear_down)]
