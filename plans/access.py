"""Who may see and change a plan: ``is_own_counselor`` and the ``may_*`` rules; ``access_*``
fetches and checks permission (404 otherwise, logged as a denial); ``learner_plan`` is the
signed-in person's own plan in force."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from assessments.models import VIEW_RESULT
from audit.models import Action
from audit.services import access_logged
from live.models import Lecture
from people.models import Caseload, Person
from people.roles import Role, has_role
from plans.errors import PlanError
from plans.models import Plan, plan_persons


def is_own_counselor(user, person_or_id) -> bool:
    """``user`` is a counselor with the person in their caseload."""
    person_id = getattr(person_or_id, "pk", person_or_id)
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and has_role(user, Role.COUNSELOR)
        and Caseload.objects.filter(person_id=person_id, counselor=user).exists()
    )


def may_edit_plan(user, plan: Plan) -> bool:
    return user.has_perm("plans.change_plan") and is_own_counselor(user, plan.person_id)


def may_see_results(user, person: Person) -> bool:
    """Whether ``user`` may see questionnaire scores and bands of ``person`` (the same rule as
    ``Result.objects.visible_to``): own counselor, or an administrator of the person's bureau
    holding ``assessments.view_result``. Officers never."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if is_own_counselor(user, person):
        return True
    return (
        has_role(user, Role.ADMINISTRATOR)
        and user.office_id is not None
        and user.has_perm(VIEW_RESULT)
        and person.office.path.startswith(user.office.path)
    )


def access_plan_for_user(user, pk, request=None, action: str = Action.VIEW) -> Plan:
    """Plan ``pk`` if ``user`` may see it (``Plan.objects.visible_to``), else 404, logged as a
    denial when it exists. A successful lookup is logged with ``action``."""
    scoped = Plan.objects.visible_to(user).select_related(
        "person__office", "person__case_officer", "person__user", "approved_by", "rule_set"
    )
    return access_logged(request, user, scoped, pk, person_field="person_id", action=action)


def access_person_for_plans(user, pk, request=None) -> Person:
    """A person whose plans ``user`` may see (404 otherwise, logged as a denial)."""
    scoped = plan_persons(user).select_related("office", "case_officer")
    return access_logged(request, user, scoped, pk, person_field="pk")


def require_counselor(plan: Plan, user) -> None:
    if not is_own_counselor(user, plan.person_id):
        raise PlanError(_("Only one of this person's own counselors can do this."))


def learner_plan(user) -> Plan | None:
    """The signed-in person's plan in force, with goals and interventions."""
    return (
        Plan.objects.for_learner(user)
        .select_related("person", "approved_by")
        .prefetch_related(
            "goals__interventions__enrollments__course",
            "goals__interventions__assignment",
            Prefetch(
                "goals__interventions__lectures", queryset=Lecture.objects.order_by("start", "pk")
            ),
        )
        .first()
    )
