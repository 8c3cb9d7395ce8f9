"""Who may author, review and publish course content, and the moderation workflow.

Lecturers write course and lesson pages and submit them for review; editors and
administrators approve them through Wagtail's workflow, which publishes them. Wagtail grants
these rights per page tree (``GroupPagePermission``) and per media collection
(``GroupCollectionPermission``), not as model permissions, so they are not in
``people.roles.ROLE_PERMISSIONS``.

``courses/migrations/0002_editor_role_and_course_review.py`` holds a copy of these tables as
they stood when it was written (migrations do not import live code); a test checks both agree.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from courses.models import CourseIndexPage
from people.roles import Role

# Rights on the course index and every page below it (Wagtail's page permission types).
# Without "publish", saving a page only makes a draft that must go through the workflow.
COURSE_PAGE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.LECTURER: ("add", "change"),
    Role.EDITOR: ("add", "change", "publish", "lock", "unlock"),
    Role.ADMINISTRATOR: ("add", "change", "publish", "lock", "unlock"),
}

# Rights on the root media collection: upload and pick images, PDFs and videos for lessons.
# "add" lets a lecturer edit what they uploaded; "change" is any file in the collection.
MEDIA_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.LECTURER: (
        "wagtailimages.add_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.choose_document",
    ),
    Role.EDITOR: (
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
    ),
    Role.ADMINISTRATOR: (
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
    ),
}

# Members of these groups approve (and so publish) what was submitted for review.
REVIEWERS: tuple[str, ...] = (Role.EDITOR, Role.ADMINISTRATOR)

# Workflow and task names are data shown in the admin in either language.
WORKFLOW_NAME = "课程审核 / Course review"
TASK_NAME = "编辑审批 / Editor approval"


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _group(role: str) -> Group:
    return Group.objects.get_or_create(name=role)[0]


def ensure_review_workflow() -> Workflow:
    """The active course-review workflow: one group-approval task for ``REVIEWERS``.

    Found by name and created if missing; reviewer groups are added, never removed."""
    task = GroupApprovalTask.objects.filter(name=TASK_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=TASK_NAME)
    task.groups.add(*(_group(role) for role in REVIEWERS))
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME)
    if not WorkflowTask.objects.filter(workflow=workflow, task=task).exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return workflow


def ensure_media_permissions() -> None:
    """Grant ``MEDIA_PERMISSIONS`` on the root collection (idempotent, only adds)."""
    root = Collection.get_first_root_node()
    for role, perms in MEDIA_PERMISSIONS.items():
        group = _group(role)
        for dotted in perms:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root, permission=_permission(dotted)
            )


@transaction.atomic
def ensure_course_permissions(index_page: CourseIndexPage) -> Workflow:
    """Set up authoring and review on ``index_page`` and every course and lesson below it.

    Grants ``COURSE_PAGE_PERMISSIONS`` on the page and ``MEDIA_PERMISSIONS`` on the media
    root, and assigns the course-review workflow to the page unless an administrator has
    already assigned another one there. Idempotent: it only adds, so what administrators
    changed in the admin stays. Returns the workflow that applies to the page."""
    for role, kinds in COURSE_PAGE_PERMISSIONS.items():
        group = _group(role)
        for kind in kinds:
            GroupPagePermission.objects.get_or_create(
                group=group, page=index_page, permission=_permission(f"wagtailcore.{kind}_page")
            )
    ensure_media_permissions()
    assigned = WorkflowPage.objects.filter(page=index_page).select_related("workflow").first()
    if assigned is not None:
        return assigned.workflow
    workflow = ensure_review_workflow()
    WorkflowPage.objects.create(page=index_page, workflow=workflow)
    return workflow
