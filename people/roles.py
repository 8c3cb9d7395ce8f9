"""Roles are Django groups; this module names them and says what each may do.

``ROLE_PERMISSIONS`` is the declared table. After every ``migrate`` the role groups are made to
hold exactly it (``sync_role_groups``, connected in ``PeopleConfig.ready``), and a test checks
the database against it. To change what a role may do, edit the table and run ``migrate``; no
data migration. The groups belong to this table: a permission added to a role group by hand
is removed at the next ``migrate``, so grant one person's extra rights to the user or to a
group of its own (as ``assessments.view_result`` is).
"""

from __future__ import annotations

import logging

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class Role(models.TextChoices):
    LEARNER = "learner", _("Supervised person")
    LECTURER = "lecturer", _("Lecturer")
    COUNSELOR = "counselor", _("Counselor")
    OFFICER = "officer", _("Case officer")
    ADMINISTRATOR = "administrator", _("Administrator")
    EDITOR = "editor", _("Content editor")


STAFF_ROLES = frozenset(
    {Role.LECTURER, Role.COUNSELOR, Role.OFFICER, Role.ADMINISTRATOR, Role.EDITOR}
)

ADMIN_ACCESS = "wagtailadmin.access_admin"
# Staff may pick images and documents when editing content (Wagtail grants these too).
CHOOSE_MEDIA = frozenset({"wagtailimages.choose_image", "wagtaildocs.choose_document"})
# Officers and administrators assign courses to the persons in their scope (learning app).
ENROLL = frozenset({"learning.add_enrollment", "learning.delete_enrollment"})
# Lectures (live app): lecturers run their own and see their attendance; only officers
# correct attendance (README "Roles": "may override with a reason").
RUN_LECTURES = frozenset({"live.add_lecture", "live.change_lecture", "live.view_lecture"})
CORRECT_ATTENDANCE = frozenset({"live.view_attendance", "live.change_attendance"})
# Assistance plans (plans app): counselors edit and approve their caseload's plans, officers
# read them and record intake facts, administrators edit the plan rules. Like
# ``assessments.view_result``, ``plans.view_bureau_plans`` is granted per user, never by role.
EDIT_PLANS = frozenset({"plans.view_plan", "plans.change_plan"})
PLAN_INTAKE = frozenset({"plans.view_plan", "plans.add_intakefacts"})
PLAN_RULES = frozenset({"plans.view_planruleset", "plans.change_planruleset"})

# ``assessments.view_result`` is on purpose in no role: an administrator sees questionnaire
# results only once it is granted to them explicitly (docs/security.md, "Roles matrix").
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.LEARNER: frozenset(),
    Role.LECTURER: frozenset({ADMIN_ACCESS, "live.view_attendance"}) | RUN_LECTURES | CHOOSE_MEDIA,
    Role.COUNSELOR: frozenset(
        {
            ADMIN_ACCESS,
            "people.view_person",
            "assessments.add_assignment",
            "assessments.add_review",
        }
    )
    | EDIT_PLANS
    | CHOOSE_MEDIA,
    Role.OFFICER: frozenset(
        {
            ADMIN_ACCESS,
            "people.view_person",
            "people.change_person",
            "people.view_office",
            # At check-in (报到) the officer gives the person a one-time activation code.
            "people.add_activationcode",
        }
    )
    | ENROLL
    | {"live.view_lecture"}
    | CORRECT_ATTENDANCE
    | PLAN_INTAKE
    | CHOOSE_MEDIA,
    Role.ADMINISTRATOR: frozenset(
        {
            ADMIN_ACCESS,
            "people.view_person",
            "people.add_person",
            "people.change_person",
            "people.view_office",
            "people.add_office",
            "people.change_office",
            "people.import_roster",
            "people.export_person_data",
            # A staff member who lost their phone gets a new authenticator at next sign-in.
            "people.reset_two_factor",
            "audit.view_accessevent",
            "assessments.view_statistics",
            "assessments.view_schedulerule",
            "assessments.add_schedulerule",
            "assessments.change_schedulerule",
            "assessments.delete_schedulerule",
            "assessments.change_crisislines",
            "live.view_attendance",
            "live.add_attendancepolicy",
            "live.change_attendancepolicy",
            "live.view_attendancepolicy",
        }
    )
    | ENROLL
    | RUN_LECTURES
    | PLAN_RULES
    | CHOOSE_MEDIA,
    # Editors review and publish course pages: what they may do to pages is granted per page
    # tree (``courses.services.ensure_course_permissions``), not as model permissions.
    Role.EDITOR: frozenset({ADMIN_ACCESS}) | CHOOSE_MEDIA,
}


def sync_role_groups(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Give each role's group exactly the permissions ``ROLE_PERMISSIONS`` declares.

    Creates missing groups, adds missing permissions and removes those a role no longer
    declares; a second run writes nothing. ``apps`` may be a migration state's registry (the
    ``post_migrate`` signal passes one). A declared permission that does not exist in the
    database (a partial ``migrate``) is skipped with a warning; the next full ``migrate``
    grants it. Permissions granted to single users and other groups are left alone.
    """
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # migrated to a state without django.contrib.auth
        return
    declared = frozenset().union(*ROLE_PERMISSIONS.values())
    rows = Permission.objects.using(using).filter(
        codename__in={dotted.split(".", 1)[1] for dotted in declared}
    )
    pks = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in rows.values_list("pk", "content_type__app_label", "codename")
    }
    if missing := sorted(declared - pks.keys()):
        logger.warning("Role permissions not in the database, not granted: %s", missing)
    with transaction.atomic(using=using):
        for role, dotted_names in ROLE_PERMISSIONS.items():
            group, _created = Group.objects.using(using).get_or_create(name=role)
            wanted = {pks[dotted] for dotted in dotted_names if dotted in pks}
            held = set(group.permissions.values_list("pk", flat=True))
            group.permissions.add(*(wanted - held))
            group.permissions.remove(*(held - wanted))


def roles_of(user) -> frozenset[str]:
    """The role names a user holds, read once per user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)
        cached = frozenset(names)
        user._role_names = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def is_staff_member(user) -> bool:
    return bool(roles_of(user) & STAFF_ROLES) or bool(getattr(user, "is_superuser", False))


def home_roles(user) -> frozenset[str]:
    """The roles whose panels the admin home shows ``user``: the roles held, and a superuser
    counts as an administrator (a superuser's ``has_perm`` is always true, so the panels ask
    for roles, never for permissions)."""
    roles = roles_of(user)
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        roles = roles | {Role.ADMINISTRATOR}
    return roles
