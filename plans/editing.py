"""Editing a draft: ``check_changes`` validates what a counselor changed (goals, their
interventions, phase and intensity) and ``do_update_plan`` writes it, refusing a stale
revision with nothing written."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lib.validation import plain_error
from people.models import User
from plans.access import require_counselor
from plans.errors import PlanError, StaleRevision
from plans.history import (
    TEXT_MAX,
    bump_revision,
    check_reason,
    goal_state,
    intervention_state,
    record_change,
)
from plans.models import (
    ChangeAction,
    Goal,
    Intensity,
    Intervention,
    Phase,
    Plan,
    PlanStatus,
)
from plans.rules import instrument_catalog
from plans.schema import Domain, intervention_def


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoalEdit(_Edit):
    id: int
    domain: Domain | None = None
    title: str | None = Field(default=None, max_length=TEXT_MAX)
    target: str | None = Field(default=None, max_length=TEXT_MAX)
    due: dt.date | None = None


class GoalAdd(_Edit):
    domain: Domain
    title: str = Field(max_length=TEXT_MAX)
    target: str = Field(default="", max_length=TEXT_MAX)
    due: dt.date
    interventions: list[dict] = Field(default_factory=list)


class InterventionAdd(_Edit):
    goal: int
    details: dict


class InterventionEdit(_Edit):
    id: int
    details: dict


class PlanChanges(_Edit):
    """What ``do_update_plan`` may change in a draft."""

    phase: str | None = None
    support_intensity: str | None = None
    intensity_explanation: str | None = Field(default=None, max_length=2000)
    goals_update: list[GoalEdit] = Field(default_factory=list)
    goals_add: list[GoalAdd] = Field(default_factory=list)
    goals_remove: list[int] = Field(default_factory=list)
    interventions_add: list[InterventionAdd] = Field(default_factory=list)
    interventions_update: list[InterventionEdit] = Field(default_factory=list)
    interventions_remove: list[int] = Field(default_factory=list)


# Names of the fields a counselor edits, for error messages.
FIELD_LABELS = {
    "domain": _lazy("Need area"),
    "title": _lazy("Goal"),
    "target": _lazy("Measurable target"),
    "due": _lazy("Due date"),
    "kind": _lazy("Kind"),
    "interval_days": _lazy("Every (days)"),
    "sessions": _lazy("Sessions"),
    "slug": _lazy("Course slug"),
    "topic": _lazy("Topic"),
    "instrument": _lazy("Questionnaire (slug)"),
    "service": _lazy("Service"),
    "contact": _lazy("Contact"),
    "phase": _lazy("Phase"),
    "support_intensity": _lazy("Support intensity"),
    "intensity_explanation": _lazy("Why this intensity (plain words, no diagnosis)"),
}


def _label(loc) -> str:
    names = [str(part) for part in loc if not isinstance(part, int)]
    return str(FIELD_LABELS.get(names[-1], names[-1])) if names else ""


def _details(details: dict, catalog: dict, where: str, field_prefix: str = "") -> dict:
    """``details`` validated; a problem raises PlanError in plain words, naming the form field
    ``<field_prefix>_<parameter>`` it concerns."""
    try:
        parsed = intervention_def(details, catalog)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = first["loc"] or (("kind",) if first["type"].startswith("union_tag") else ())
        names = [str(part) for part in loc if str(part) in FIELD_LABELS]
        field = f"{field_prefix}_{names[-1]}" if field_prefix and names else None
        label = _label(loc)
        problem = plain_error(first)
        text = f"{label}: {problem}" if label else problem
        raise PlanError(f"{where}: {text}", field=field) from None
    except ValueError as exc:
        raise PlanError(f"{where}: {exc}") from None
    return parsed.model_dump(mode="json", exclude_none=True)


def _text(value: str | None, what: str, title: str) -> str:
    value = (value or "").strip()
    if not value:
        raise PlanError(
            _("Goal “%(title)s”: %(what)s is required.") % {"title": title or "—", "what": what}
        )
    return value


def _change_problem(plan: Plan, raw: dict, error: dict) -> PlanError:
    """A pydantic error on raw ``changes`` as a plain sentence naming the goal and field it
    concerns (and the edit form's field, ``g<id>_<name>`` or ``new_<name>``)."""
    loc = error["loc"]
    label = _label(loc[2:] or loc)
    problem = plain_error(error)
    name = str(loc[2]) if len(loc) >= 3 else ""
    if len(loc) >= 2 and loc[0] in ("goals_update", "goals_add") and isinstance(loc[1], int):
        field = None
        try:
            item = raw[loc[0]][loc[1]]
            if loc[0] == "goals_update":
                field = f"g{int(item['id'])}_{name}" if name else None
            else:
                field = f"new_{name}" if name else None
            title = item.get("title") or plan.goals.get(pk=item["id"]).title
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, Goal.DoesNotExist):
            title = "—"
        return PlanError(
            _("Goal “%(title)s”: %(field)s: %(problem)s")
            % {"title": title, "field": label, "problem": problem},
            field=field,
        )
    return PlanError(f"{label}: {problem}" if label else problem)


def check_changes(plan: Plan, changes: PlanChanges | dict) -> PlanChanges:
    """Validate ``changes`` for ``plan``; raise PlanError naming the first problem."""
    if not isinstance(changes, PlanChanges):
        try:
            changes = PlanChanges.model_validate(changes)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise _change_problem(plan, changes, first) from None
    if changes.phase is not None and changes.phase not in Phase.values:
        raise PlanError(_("Unknown phase."))
    if changes.support_intensity is not None and changes.support_intensity not in Intensity.values:
        raise PlanError(_("Unknown support intensity."))
    if changes.intensity_explanation is not None and not changes.intensity_explanation.strip():
        raise PlanError(_("Explain the support intensity in a sentence."))
    goal_ids = set(plan.goals.values_list("pk", flat=True))
    for edit in [*changes.goals_update]:
        if edit.id not in goal_ids:
            raise PlanError(_("Goal %(id)s is not part of this plan.") % {"id": edit.id})
        for name in ("title", "target"):
            value = getattr(edit, name)
            if value is not None and not value.strip():
                what = _("a measurable target") if name == "target" else _("a title")
                raise PlanError(
                    _("Goal “%(title)s”: %(what)s is required.")
                    % {"title": edit.title or plan.goals.get(pk=edit.id).title, "what": what}
                )
    for goal_id in changes.goals_remove:
        if goal_id not in goal_ids:
            raise PlanError(_("Goal %(id)s is not part of this plan.") % {"id": goal_id})
    for add in changes.goals_add:
        _text(add.title, _("a title"), add.title)
        _text(add.target, _("a measurable target"), add.title)
    intervention_ids = set(
        Intervention.objects.filter(goal__plan=plan).values_list("pk", flat=True)
    )
    for edit in changes.interventions_update:
        if edit.id not in intervention_ids:
            raise PlanError(_("Intervention %(id)s is not part of this plan.") % {"id": edit.id})
    for pk in changes.interventions_remove:
        if pk not in intervention_ids:
            raise PlanError(_("Intervention %(id)s is not part of this plan.") % {"id": pk})
    for add in changes.interventions_add:
        if add.goal not in goal_ids or add.goal in changes.goals_remove:
            raise PlanError(_("Goal %(id)s is not part of this plan.") % {"id": add.goal})
    return changes


def do_update_plan(
    plan: Plan, changes: PlanChanges | dict, by: User, reason: str, expected_revision: int
) -> Plan:
    """Apply ``changes`` to the draft ``plan`` as ``by`` (one of the person's counselors).

    Refused with StaleRevision when the plan's revision is no longer ``expected_revision``
    (someone else saved first): nothing is written and the caller keeps the edits to show.
    """
    require_counselor(plan, by)
    reason = check_reason(reason)
    catalog = instrument_catalog()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.revision != expected_revision:
            last = locked.changes.select_related("by").first()
            who = last.by.get_full_name() if last and last.by else _("someone else")
            when = timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M") if last else ""
            raise StaleRevision(
                _(
                    "This plan was changed by %(who)s at %(when)s after you opened it. Your "
                    "changes were not saved; they are still in the form. Reload the plan, "
                    "then make them again."
                )
                % {"who": who, "when": when}
            )
        if locked.status != PlanStatus.DRAFT:
            raise PlanError(
                _("Only a draft can be edited. Start a revision of the plan in force instead.")
            )
        changes = check_changes(locked, changes)
        diff: dict = {}
        plan_fields = []
        for name in ("phase", "support_intensity", "intensity_explanation"):
            value = getattr(changes, name)
            if value is not None:
                value = value.strip() if name == "intensity_explanation" else value
                if value != getattr(locked, name):
                    diff.setdefault("plan", {})[name] = [getattr(locked, name), value]
                    setattr(locked, name, value)
                    plan_fields.append(name)

        goals = {g.pk: g for g in locked.goals.all()}
        changed_goals: dict[str, dict] = {}
        for edit in changes.goals_update:
            goal = goals[edit.id]
            fields = {}
            for name in ("domain", "title", "target", "due"):
                value = getattr(edit, name)
                if value is None:
                    continue
                value = value.strip() if isinstance(value, str) else value
                if value != getattr(goal, name):
                    old = getattr(goal, name)
                    fields[name] = [
                        old.isoformat() if isinstance(old, dt.date) else old,
                        value.isoformat() if isinstance(value, dt.date) else value,
                    ]
                    setattr(goal, name, value)
            if fields:
                goal.edited = True
                goal.save(update_fields=[*fields, "edited"])
                changed_goals[str(goal.pk)] = fields
        removed_goals = []
        for goal_id in changes.goals_remove:
            removed_goals.append(goal_state(goals[goal_id]))
            goals[goal_id].delete()
        added_goals = []
        position = max((g.position for g in goals.values()), default=-1) + 1
        for add in changes.goals_add:
            details = [
                _details(d, catalog, _("New goal “%(title)s”") % {"title": add.title})
                for d in add.interventions
            ]
            goal = Goal.objects.create(
                plan=locked,
                domain=add.domain,
                title=add.title.strip(),
                target=add.target.strip(),
                due=add.due,
                position=position,
            )
            position += 1
            for slot, item in enumerate(details):
                Intervention.objects.create(
                    goal=goal, kind=item["kind"], details=item, position=slot
                )
            added_goals.append(goal_state(goal))

        interventions = {
            i.pk: i for i in Intervention.objects.filter(goal__plan=locked).select_related("goal")
        }
        iv_diff: dict = {}
        for edit in changes.interventions_update:
            intervention = interventions.get(edit.id)
            if intervention is None:  # its goal was removed above
                continue
            details = _details(
                edit.details,
                catalog,
                _("Intervention for “%(title)s”") % {"title": intervention.goal.title},
                field_prefix=f"i{intervention.pk}",
            )
            if details["kind"] != intervention.kind:
                raise PlanError(
                    _("The kind of an intervention cannot change; remove it and add another.")
                )
            if details != intervention.details:
                iv_diff.setdefault("changed", {})[str(intervention.pk)] = [
                    intervention.details,
                    details,
                ]
                intervention.details = details
                intervention.save(update_fields=["details"])
        for pk in changes.interventions_remove:
            intervention = interventions.get(pk)
            if intervention is not None:
                iv_diff.setdefault("removed", []).append(intervention_state(intervention))
                intervention.delete()
        for add in changes.interventions_add:
            goal = Goal.objects.get(pk=add.goal, plan=locked)
            details = _details(
                add.details,
                catalog,
                _("New intervention for “%(title)s”") % {"title": goal.title},
                field_prefix="add",
            )
            slot = goal.interventions.count()
            intervention = Intervention.objects.create(
                goal=goal, kind=details["kind"], details=details, position=slot
            )
            iv_diff.setdefault("added", []).append(intervention_state(intervention))

        if changed_goals or removed_goals or added_goals:
            diff["goals"] = {
                k: v
                for k, v in (
                    ("changed", changed_goals),
                    ("removed", removed_goals),
                    ("added", added_goals),
                )
                if v
            }
        if iv_diff:
            diff["interventions"] = iv_diff
        if not diff:
            raise PlanError(_("Nothing was changed."))
        bump_revision(locked, *plan_fields)
        record_change(locked, by, ChangeAction.UPDATED, reason, diff)
    plan.refresh_from_db()
    return plan
