"""Lecturers author course pages, editors and administrators publish them through the review
workflow; nobody else edits course content. Driven through Wagtail's real admin views."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from wagtail.documents.models import Document
from wagtail.models import (
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowState,
)
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.models import HomePage
from courses import services
from courses.demo import DEMO_VIDEO
from courses.models import CourseIndexPage, CoursePage, LessonPage
from people.roles import ROLE_PERMISSIONS, Role
from tests.factories import login_staff, make_user
from tests.security.matrix import FORBIDDEN, LOGIN, classify

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("courses.migrations.0002_editor_role_and_course_review")


@pytest.fixture
def index(db) -> CourseIndexPage:
    home = HomePage.objects.first()
    page = CourseIndexPage(title="课程", slug="courses")
    home.add_child(instance=page)
    services.ensure_course_permissions(page)
    return page


def signed_in(user) -> Client:
    client = Client()
    login_staff(client, user)
    return client


def course_form(title: str, **extra) -> dict:
    return nested_form_data(
        {
            "title": title,
            "slug": extra.pop("slug", "new-course"),
            "summary": "合同与借贷的基本知识。",
            "topic": "legal",
            "credit_hours": "1.0",
            "intended_categories": ["normal"],
            "comments": inline_formset([]),
            **extra,
        }
    )


def lesson_form(title: str, **extra) -> dict:
    return nested_form_data(
        {
            "title": title,
            "slug": "first-lesson",
            "expected_seconds": "300",
            "body": streamfield([("text", rich_text("<p>依法成立的合同受法律保护。</p>"))]),
            "comments": inline_formset([]),
            **extra,
        }
    )


def add_url(model: str, parent: Page) -> str:
    return reverse("wagtailadmin_pages:add", args=("courses", model, parent.pk))


def edit_url(page: Page) -> str:
    return reverse("wagtailadmin_pages:edit", args=(page.pk,))


def approve_url(page: Page) -> str:
    state = WorkflowState.objects.for_instance(page).get(status=WorkflowState.STATUS_IN_PROGRESS)
    return reverse(
        "wagtailadmin_pages:workflow_action",
        args=(page.pk, "approve", state.current_task_state_id),
    )


def draft_course(org, index, title: str = "《民法典》入门") -> CoursePage:
    """A course the lecturer wrote and saved as a draft through the admin."""
    response = signed_in(org.lecturer).post(add_url("coursepage", index), course_form(title))
    assert response.status_code == 302, response.content[:2000]
    return CoursePage.objects.get(title=title)


# --- Who holds which rights --------------------------------------------------------------------


def test_roles_hold_the_declared_rights_on_the_course_tree(index):
    granted = {
        (p.group.name, p.permission.codename.removesuffix("_page"))
        for p in GroupPagePermission.objects.filter(page=index).select_related(
            "group", "permission"
        )
    }
    expected = {
        (role, kind) for role, kinds in services.COURSE_PAGE_PERMISSIONS.items() for kind in kinds
    }
    assert granted == expected
    assert ("lecturer", "publish") not in granted
    assert WorkflowPage.objects.get(page=index).workflow.name == services.WORKFLOW_NAME
    task = GroupApprovalTask.objects.get(name=services.TASK_NAME)
    assert set(task.groups.values_list("name", flat=True)) == {"editor", "administrator"}


def test_the_editor_group_has_admin_access_and_no_model_rights_beyond_media():
    editor = Group.objects.get(name=Role.EDITOR)
    actual = {f"{p.content_type.app_label}.{p.codename}" for p in editor.permissions.all()}
    assert actual == set(ROLE_PERMISSIONS[Role.EDITOR])


@pytest.mark.parametrize("role", ["lecturer", "editor", "administrator"])
def test_authors_and_reviewers_may_add_and_edit_but_only_reviewers_publish(org, index, role):
    course = draft_course(org, index)
    perms = course.permissions_for_user(getattr(org, role))
    assert perms.can_edit()
    assert perms.can_add_subpage()
    assert perms.can_publish() is (role != "lecturer")
    assert index.permissions_for_user(getattr(org, role)).can_publish_subpage() is (
        role != "lecturer"
    )


@pytest.mark.parametrize("role", ["officer", "counselor", "learner", "outsider"])
def test_other_roles_have_no_rights_on_course_pages(org, index, role):
    course = draft_course(org, index)
    perms = course.permissions_for_user(getattr(org, role))
    assert not perms.can_edit()
    assert not perms.can_add_subpage()
    assert not perms.can_publish()
    assert not perms.can_delete()


# --- The review journey through the admin ------------------------------------------------------


def test_a_lecturer_cannot_publish_a_course_they_wrote(org, index):
    lecturer = signed_in(org.lecturer)
    form = course_form("《民法典》入门", **{"action-publish": "action-publish"})
    response = lecturer.post(add_url("coursepage", index), form)
    assert response.status_code == 302
    course = CoursePage.objects.get(title="《民法典》入门")
    # Wagtail saved a draft instead: "publish" needs the publish right.
    assert not course.live
    assert course.owner == org.lecturer
    assert not course.permissions_for_user(org.lecturer).can_publish()

    form = course_form("《民法典》入门（修订）", **{"action-publish": "action-publish"})
    lecturer.post(edit_url(course), form)
    course.refresh_from_db()
    assert not course.live
    assert course.draft_title == "《民法典》入门（修订）"

    bulk = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    lecturer.post(f"{bulk}?id={course.pk}", {})
    course.refresh_from_db()
    assert not course.live


def test_a_lecturer_submits_for_review_and_an_editor_approves_it_live(org, index):
    course = draft_course(org, index)
    lecturer = signed_in(org.lecturer)
    response = lecturer.post(
        add_url("lessonpage", course),
        lesson_form("合同与借款", **{"action-submit": "action-submit"}),
    )
    assert response.status_code == 302
    lesson = LessonPage.objects.get(title="合同与借款")
    response = lecturer.post(
        edit_url(course), course_form("《民法典》入门", **{"action-submit": "action-submit"})
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.workflow_in_progress
    assert course.current_workflow_task.specific.name == services.TASK_NAME
    assert lesson.workflow_in_progress

    # The author cannot approve their own submission.
    response = lecturer.post(approve_url(course), {})
    assert classify(response) == FORBIDDEN
    course.refresh_from_db()
    assert not course.live

    editor = signed_in(org.editor)
    for page in (course, lesson):
        response = editor.post(approve_url(page), {})
        assert response.status_code == 302
        page.refresh_from_db()
        assert page.live
        assert not page.workflow_in_progress
        assert page.live_revision.user == org.lecturer
    assert LessonPage.objects.get(pk=lesson.pk).body[0].block_type == "text"


def test_an_administrator_approves_too(org, index):
    course = draft_course(org, index)
    signed_in(org.lecturer).post(
        edit_url(course), course_form("《民法典》入门", **{"action-submit": "action-submit"})
    )
    response = signed_in(org.administrator).post(approve_url(course), {})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.live


def test_an_editor_can_publish_directly(org, index):
    editor = signed_in(org.editor)
    form = course_form("编辑发布的课程", **{"action-publish": "action-publish"})
    assert editor.post(add_url("coursepage", index), form).status_code == 302
    assert CoursePage.objects.get(title="编辑发布的课程").live


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("officer", FORBIDDEN), ("counselor", FORBIDDEN), ("learner", LOGIN), ("outsider", LOGIN)],
)
def test_others_cannot_open_or_change_course_pages_in_the_admin(org, index, role, outcome):
    course = draft_course(org, index)
    client = signed_in(getattr(org, role))
    assert classify(client.get(edit_url(course))) == outcome
    assert classify(client.get(add_url("coursepage", index))) == outcome
    form = course_form("被篡改的标题", **{"action-publish": "action-publish"})
    assert classify(client.post(edit_url(course), form)) == outcome
    assert classify(client.post(add_url("coursepage", index), form)) == outcome
    course.refresh_from_db()
    assert course.draft_title == "《民法典》入门"
    assert not course.live
    assert CoursePage.objects.count() == 1


# --- Media for lessons -------------------------------------------------------------------------


def _upload(client: Client):
    video = SimpleUploadedFile("lesson.mp4", DEMO_VIDEO.read_bytes(), content_type="video/mp4")
    return client.post(
        reverse("wagtaildocs:add"), {"title": "课程短片", "file": video, "collection": "1"}
    )


@pytest.mark.parametrize("role", ["lecturer", "editor", "administrator"])
def test_authors_upload_lesson_videos(org, index, role, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = _upload(signed_in(getattr(org, role)))
    assert response.status_code == 302
    document = Document.objects.get(title="课程短片")
    assert document.file_extension == "mp4"
    assert document.uploaded_by_user == getattr(org, role)


@pytest.mark.parametrize("role", ["officer", "counselor"])
def test_other_staff_cannot_upload_media(org, index, role, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert classify(_upload(signed_in(getattr(org, role)))) == FORBIDDEN
    assert not Document.objects.exists()


# --- Setting up an index -----------------------------------------------------------------------


def _grants(index: Page) -> dict:
    return {
        "pages": {
            (p.group.name, p.permission.codename)
            for p in GroupPagePermission.objects.filter(page=index).select_related(
                "group", "permission"
            )
        },
        "media": {
            (p.group.name, f"{p.permission.content_type.app_label}.{p.permission.codename}")
            for p in GroupCollectionPermission.objects.filter(
                group__name__in=services.MEDIA_PERMISSIONS
            ).select_related("group", "permission__content_type")
        },
        "workflow": WorkflowPage.objects.get(page=index).workflow.name,
        "reviewers": set(
            GroupApprovalTask.objects.get(name=services.TASK_NAME).groups.values_list(
                "name", flat=True
            )
        ),
    }


def test_ensuring_twice_changes_nothing_and_keeps_an_administrators_workflow(index):
    before = _grants(index)
    services.ensure_course_permissions(index)
    assert _grants(index) == before
    assert Workflow.objects.filter(name=services.WORKFLOW_NAME).count() == 1

    other = Workflow.objects.create(name="两级审核")
    WorkflowPage.objects.filter(page=index).update(workflow=other)
    assert services.ensure_course_permissions(index) == other
    assert WorkflowPage.objects.get(page=index).workflow == other


def test_an_index_created_in_the_admin_is_set_up_for_review(org):
    superuser = make_user("root", is_superuser=True, is_staff=True)
    home = HomePage.objects.first()
    form = nested_form_data(
        {"title": "课程", "slug": "courses", "intro": rich_text(""), "comments": inline_formset([])}
    )
    response = signed_in(superuser).post(add_url("courseindexpage", home), form)
    assert response.status_code == 302
    index = CourseIndexPage.objects.get()
    assert _grants(index)["workflow"] == services.WORKFLOW_NAME
    assert index.permissions_for_user(org.editor).can_publish_subpage()


def test_the_migration_copies_the_service_tables():
    assert MIGRATION.COURSE_PAGE_PERMISSIONS == {
        str(role): list(kinds) for role, kinds in services.COURSE_PAGE_PERMISSIONS.items()
    }
    assert MIGRATION.MEDIA_PERMISSIONS == {
        str(role): list(perms) for role, perms in services.MEDIA_PERMISSIONS.items()
    }
    assert MIGRATION.REVIEWERS == [str(role) for role in services.REVIEWERS]
    assert (MIGRATION.WORKFLOW_NAME, MIGRATION.TASK_NAME) == (
        services.WORKFLOW_NAME,
        services.TASK_NAME,
    )
    assert set(MIGRATION.EDITOR_PERMISSIONS) == set(ROLE_PERMISSIONS[Role.EDITOR])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_sets_up_an_existing_index_as_the_service_does():
    home = HomePage.objects.first()
    index = CourseIndexPage(title="课程", slug="courses")
    home.add_child(instance=index)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("courses", "0001_course_pages")])
        assert not GroupPagePermission.objects.filter(page=index).exists()
        assert not Group.objects.filter(name="editor").exists()
        executor.loader.build_graph()
        executor.migrate([("courses", "0002_editor_role_and_course_review")])
        by_migration = _grants(index)
    finally:
        # Going back to courses 0001 also unapplied every migration that depends on it (in
        # learning, live, plans…): bring the whole schema forward again for the next tests.
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    GroupPagePermission.objects.filter(page=index).delete()
    GroupCollectionPermission.objects.filter(group__name__in=services.MEDIA_PERMISSIONS).delete()
    WorkflowPage.objects.filter(page=index).delete()
    services.ensure_course_permissions(index)
    assert _grants(index) == by_migration
    assert by_migration["workflow"] == services.WORKFLOW_NAME
