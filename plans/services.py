"""The plan lifecycle: needs → draft → edit → approve (which puts the interventions in place)
→ the person acknowledges → progress notes, appointments and reviews → revision or closing.

House contract: ``access_*`` fetches and checks permission (404 otherwise), ``check_*``
validates, ``do_*`` writes. Every change appends a ``PlanChange`` (who, when, why, what) and
an access-log event. Edits name the revision they started from; a stale one is refused with
``StaleRevision`` and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assessments.models import VIEW_RESULT, Assignment, AssignmentReason, Result
from assessments.taking import AssessmentError, do_assign
from audit.models import Action
from audit.services import access_logged, record_access
from courses.models import CoursePage, Topic
from learning.models import Enrollment, QuizAttempt
from learning.services import quota_hours_for
from live.models import Lecture
from participation.models import ParticipationRecord
from people.models import Caseload, Person, PersonStatus, User
from people.roles import Role, has_role
from plans.models import (
    AppointmentStatus,
    ChangeAction,
    CounselingAppointment,
    Goal,
    GoalStatus,
    IntakeFacts,
    Intervention,
    Plan,
    PlanChange,
    PlanReview,
    PlanStatus,
    ProgressNote,
    ReviewDecision,
    ReviewReason,
    plan_persons,
)
from plans.needs import (
    IntakeSnapshot,
    MonthFigure,
    NeedsProfile,
    QuizFigures,
    ResultFact,
    ScaleFact,
    explanation,
    needs_profile,
)
from plans.rules import RuleSetMissing, current_rule_set, instrument_catalog
from plans.schedule import add_months, next_review, phase_for
from plans.schema import (
    FACTS,
    CounselingDef,
    CourseDef,
    Domain,
    LectureSeriesDef,
    PlanRulesDef,
    RetestDef,
    intervention_def,
)

logger = logging.getLogger(__name__)

APPOINTMENT_HOUR = 10
TEXT_MAX = 500


class PlanError(Exception):
    """A request that cannot be carried out; ``str()`` is a clear, user-facing reason."""


class StaleRevision(PlanError):
    """The plan changed since the editor loaded it; the edit was not saved."""


# --- Who may do what --------------------------------------------------------------------------


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


def _require_counselor(plan: Plan, user) -> None:
    if not is_own_counselor(user, plan.person_id):
        raise PlanError(_("Only one of this person's own counselors can do this."))


# --- History ----------------------------------------------------------------------------------


def _record(plan: Plan, by, action: str, reason: str, diff: dict | None = None) -> PlanChange:
    """Append the history entry and the access-log event of a change to ``plan``."""
    change = PlanChange.objects.create(
        plan=plan,
        revision=plan.revision,
        by=by,
        action=action,
        reason=(reason or "")[:TEXT_MAX],
        diff=diff or {},
    )
    record_access(
        None,
        action=Action.CHANGE,
        user=by,
        username="system" if by is None else "",
        obj=plan,
        person_id=plan.person_id,
        detail=f"plan {action}: {reason}"[:255],
    )
    return change


def _bump(plan: Plan, *fields: str) -> None:
    plan.revision += 1
    plan.save(update_fields=["revision", "updated_at", *fields])


def _goal_state(goal: Goal) -> dict:
    return {
        "domain": goal.domain,
        "title": goal.title,
        "target": goal.target,
        "due": goal.due.isoformat(),
        "status": goal.status,
    }


def _intervention_state(intervention: Intervention) -> dict:
    return {"goal": intervention.goal_id, **intervention.details}


# --- Gathering the needs ----------------------------------------------------------------------


def reviewed_results(person: Person) -> list[ResultFact]:
    """The person's results with a signed review, as ``ResultFact`` (one query)."""
    rows = (
        Result.objects.filter(person=person, review__signed_at__isnull=False)
        .select_related("instrument_version__instrument")
        .order_by("created_at", "pk")
    )
    definitions: dict[int, object] = {}
    facts = []
    for result in rows:
        version = result.instrument_version
        if version.pk not in definitions:
            definitions[version.pk] = version.as_definition()
        definition = definitions[version.pk]
        scales = {}
        for scale in definition.scales:
            stored = result.scales.get(scale.code) or {}
            bands = sorted(scale.bands, key=lambda band: band.low)
            band = next((b for b in bands if b.code == stored.get("band")), None)
            scales[scale.code] = ScaleFact(
                score=stored.get("score"),
                band=stored.get("band"),
                band_order=tuple(b.code for b in bands),
                band_label=band.label.model_dump(by_alias=True) if band else {},
            )
        facts.append(
            ResultFact(
                result_id=result.pk,
                instrument=version.instrument.slug,
                taken_at=result.created_at,
                scales=scales,
                critical=result.critical,
            )
        )
    return facts


def participation_months(person: Person, today: dt.date, count: int) -> list[MonthFigure]:
    """The last ``count`` complete calendar months of supervision before ``today``'s month."""
    this_month = today.replace(day=1)
    first = person.supervision_start.replace(day=1)
    if first < person.supervision_start:
        first = add_months(first, 1)  # the starting month was not complete
    periods = []
    month = add_months(this_month, -1)
    while month >= first and len(periods) < count:
        if add_months(month, 1) <= person.supervision_end + dt.timedelta(days=1):
            periods.append(month)
        month = add_months(month, -1)
    if not periods:
        return []
    minutes = dict(
        ParticipationRecord.objects.filter(person=person, period__in=periods)
        .values("period")
        .annotate(total=Sum("minutes"))
        .values_list("period", "total")
    )
    quota = int(quota_hours_for(person) * 60)
    return [MonthFigure(p, int(minutes.get(p) or 0), quota) for p in sorted(periods)]


def quiz_figures(person: Person) -> QuizFigures:
    totals = QuizAttempt.objects.filter(person=person, number=1).aggregate(
        right=Sum("score"), answered=Sum("total")
    )
    return QuizFigures(right=totals["right"] or 0, answered=totals["answered"] or 0)


def gather_needs(person: Person, rules: PlanRulesDef, today: dt.date | None = None) -> NeedsProfile:
    today = today or timezone.localdate()
    intake = IntakeFacts.objects.latest_for(person)
    snapshot = (
        IntakeSnapshot(intake.pk, timezone.localtime(intake.recorded_at).date(), intake.as_dict())
        if intake is not None
        else None
    )
    months_wanted = rules.signals.participation.months if rules.signals.participation else 0
    return needs_profile(
        rules,
        results=reviewed_results(person),
        intake=snapshot,
        months=participation_months(person, today, months_wanted) if months_wanted else (),
        quiz=quiz_figures(person) if rules.signals.quiz else None,
    )


# --- Drafting ---------------------------------------------------------------------------------


def _site_language():
    return translation.override(settings.LANGUAGE_CODE)


def _suggest_goals(
    plan: Plan, profile: NeedsProfile, rules: PlanRulesDef, domains, today: dt.date
) -> list[Goal]:
    """Add the rule set's goals for the current level of each of ``domains`` that the plan
    does not have yet. Goals and targets are written in the site's language."""
    existing = set(plan.goals.exclude(suggestion="").values_list("suggestion", flat=True))
    position = plan.goals.count()
    added = []
    language = settings.LANGUAGE_CODE
    for domain in Domain.values:
        if domain not in domains:
            continue
        need = profile.domains[domain]
        rule = rules.rule_for(domain, need.level)
        if rule is None:
            continue
        instruments = sorted({e.instrument for e in need.evidence if e.from_questionnaire})
        for index, goal_def in enumerate(rule.goals):
            key = f"{domain}:{need.level}:{index}"
            if key in existing:
                continue
            goal = Goal.objects.create(
                plan=plan,
                domain=domain,
                title=goal_def.title.for_language(language),
                target=goal_def.target.for_language(language),
                due=today + dt.timedelta(days=goal_def.due_in_days),
                position=position,
                suggestion=key,
            )
            position += 1
            slot = 0
            for intervention in goal_def.interventions:
                expanded = [intervention]
                if isinstance(intervention, RetestDef) and intervention.instrument is None:
                    expanded = [
                        intervention.model_copy(update={"instrument": slug}) for slug in instruments
                    ]
                for item in expanded:
                    Intervention.objects.create(
                        goal=goal,
                        kind=item.kind,
                        details=item.model_dump(mode="json", exclude_none=True),
                        position=slot,
                    )
                    slot += 1
            added.append(goal)
    return added


def _changed_domains(before: dict, profile: NeedsProfile) -> list[str]:
    old = NeedsProfile.from_dict(before).levels() if before else {}
    return [d for d, level in profile.levels().items() if old.get(d) != level]


def do_draft_plan(person: Person, by: User | None, reason: str) -> Plan | None:
    """Draft or update the person's plan from their current needs.

    - a draft exists: its needs are refreshed; for each domain whose level changed, the
      untouched suggested goals of the old level are replaced by the new level's;
    - an approved plan exists: when a level changed, a new draft version is made from it
      (active goals carried over, new suggestions added); otherwise nothing happens;
    - no plan yet: version 1 is drafted from the rule set.

    Returns the draft, or ``None`` when nothing changed."""
    rule_row, rules = current_rule_set()
    today = timezone.localdate()
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        profile = gather_needs(person, rules, today)
        with _site_language():
            why = explanation(profile)
        draft = (
            Plan.objects.select_for_update().filter(person=person, status=PlanStatus.DRAFT).first()
        )
        approved = Plan.objects.filter(person=person, status=PlanStatus.APPROVED).first()

        if draft is not None:
            changed = _changed_domains(draft.needs, profile)
            removed = []
            for domain in changed:
                stale = (
                    draft.goals.filter(domain=domain, carried_from__isnull=True, edited=False)
                    .exclude(suggestion="")
                    .exclude(suggestion__startswith=f"{domain}:{profile.level(domain)}:")
                )
                for goal in stale:
                    removed.append(_goal_state(goal))
                    goal.delete()
            added = _suggest_goals(draft, profile, rules, changed, today)
            before = {"intensity": draft.support_intensity}
            draft.needs = profile.as_dict()
            draft.support_intensity = profile.intensity
            draft.intensity_explanation = why
            _bump(draft, "needs", "support_intensity", "intensity_explanation")
            _record(
                draft,
                by,
                ChangeAction.DRAFTED,
                reason,
                {
                    "levels_changed": changed,
                    "goals": {
                        "added": [_goal_state(g) for g in added],
                        "removed": removed,
                    },
                    "intensity": [before["intensity"], profile.intensity],
                },
            )
            return draft

        if approved is not None:
            changed = _changed_domains(approved.needs, profile)
            if not changed:
                return None
            draft = _new_version(approved, by, profile, why, rule_row)
            added = _suggest_goals(draft, profile, rules, changed, today)
            _record(
                draft,
                by,
                ChangeAction.DRAFTED,
                reason,
                {
                    "from_version": approved.version,
                    "levels_changed": changed,
                    "goals": {"added": [_goal_state(g) for g in added]},
                },
            )
            return draft

        version = (
            max(Plan.objects.filter(person=person).values_list("version", flat=True), default=0) + 1
        )
        draft = Plan.objects.create(
            person=person,
            version=version,
            phase=phase_for(person.supervision_start, person.supervision_end, today),
            support_intensity=profile.intensity,
            intensity_explanation=why,
            needs=profile.as_dict(),
            rule_set=rule_row,
            created_by=by,
        )
        added = _suggest_goals(draft, profile, rules, Domain.values, today)
        _record(
            draft,
            by,
            ChangeAction.DRAFTED,
            reason,
            {"levels": profile.levels(), "goals": {"added": [_goal_state(g) for g in added]}},
        )
        return draft


def _new_version(approved: Plan, by, profile: NeedsProfile, why: str, rule_row) -> Plan:
    """A draft copy of ``approved`` (active goals and their interventions, links kept)."""
    draft = Plan.objects.create(
        person=approved.person,
        version=approved.version + 1,
        phase=approved.phase,
        support_intensity=profile.intensity,
        intensity_explanation=why,
        needs=profile.as_dict(),
        rule_set=rule_row,
        previous=approved,
        created_by=by,
    )
    for goal in approved.goals.filter(status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED]):
        copy = Goal.objects.create(
            plan=draft,
            domain=goal.domain,
            title=goal.title,
            target=goal.target,
            due=goal.due,
            position=goal.position,
            suggestion=goal.suggestion,
            carried_from=goal,
        )
        for intervention in goal.interventions.all():
            carried = Intervention.objects.create(
                goal=copy,
                kind=intervention.kind,
                details=intervention.details,
                position=intervention.position,
                assignment_id=intervention.assignment_id,
                assignment_created=intervention.assignment_created,
                activated_at=intervention.activated_at,
                carried_from=intervention,
            )
            carried.enrollments.set(intervention.enrollments.all())
            carried.lectures.set(intervention.lectures.all())
    return draft


def on_review_signed(review) -> Plan | None:
    """Called by ``assessments.taking.do_review`` once a review is signed: only reviewed
    results feed the plan. A missing rule set is logged, never blocks the review."""
    result = review.result
    with _site_language():
        reason = _("Review of a questionnaire result signed (result %(id)s)") % {"id": result.pk}
    try:
        return do_draft_plan(result.person, review.counselor, reason)
    except RuleSetMissing:
        logger.warning("no plan rule set loaded: plan not drafted for result %s", result.pk)
        return None


def do_revise_plan(plan: Plan, by: User, reason: str) -> Plan:
    """Start a new draft version of the approved ``plan`` (or return the existing draft)."""
    _require_counselor(plan, by)
    reason = _reason(reason)
    rule_row, rules = current_rule_set()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PlanStatus.APPROVED:
            raise PlanError(_("Only the plan in force can be revised."))
        existing = Plan.objects.filter(person_id=locked.person_id, status=PlanStatus.DRAFT).first()
        if existing is not None:
            return existing
        profile = gather_needs(locked.person, rules)
        draft = _new_version(locked, by, profile, locked.intensity_explanation, rule_row)
        draft.support_intensity = locked.support_intensity
        draft.save(update_fields=["support_intensity"])
        _record(draft, by, ChangeAction.DRAFTED, reason, {"from_version": locked.version})
        return draft


# --- Intake -----------------------------------------------------------------------------------


def check_intake(values: dict) -> dict[str, str]:
    clean = {}
    for name, choices in FACTS.items():
        value = values.get(name)
        if value not in choices.values:
            raise PlanError(_("Choose a value for “%(fact)s”.") % {"fact": name})
        clean[name] = value
    return clean


def do_record_intake(person: Person, by: User, values: dict, note: str = "") -> IntakeFacts:
    """Record the person's circumstances (a new row) as ``by``, who must have the person in
    their plans scope (officer of the office or case, own counselor); then draft or update
    the person's plan."""
    clean = check_intake(values)
    if not plan_persons(by).filter(pk=person.pk).exists():
        raise PlanError(_("You cannot record facts about this person."))
    with transaction.atomic():
        facts = IntakeFacts.objects.create(
            person=person, recorded_by=by, note=(note or "")[:2000], **clean
        )
        record_access(
            None,
            action=Action.CHANGE,
            user=by,
            obj=facts,
            person_id=person.pk,
            detail="intake facts recorded",
        )
        try:
            do_draft_plan(person, by, _("New intake facts recorded"))
        except RuleSetMissing:
            logger.warning("no plan rule set loaded: plan not drafted for person %s", person.pk)
    return facts


# --- Editing a draft --------------------------------------------------------------------------


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


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Say why you are making this change."))
    return reason[:TEXT_MAX]


def _details(details: dict, catalog: dict, where: str) -> dict:
    try:
        parsed = intervention_def(details, catalog)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise PlanError(f"{where}: {problems}") from None
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


def _change_problem(plan: Plan, raw: dict, error: dict) -> str:
    """A pydantic error on raw ``changes`` as a sentence naming the goal it concerns."""
    loc = error["loc"]
    field = ".".join(str(part) for part in loc[2:]) or ".".join(str(part) for part in loc)
    if len(loc) >= 2 and loc[0] in ("goals_update", "goals_add") and isinstance(loc[1], int):
        try:
            item = raw[loc[0]][loc[1]]
            title = item.get("title") or plan.goals.get(pk=item["id"]).title
        except (KeyError, IndexError, TypeError, AttributeError, Goal.DoesNotExist):
            title = "—"
        return _("Goal “%(title)s”: %(field)s: %(problem)s") % {
            "title": title,
            "field": field,
            "problem": error["msg"],
        }
    return f"{field}: {error['msg']}"


def check_changes(plan: Plan, changes: PlanChanges | dict) -> PlanChanges:
    """Validate ``changes`` for ``plan``; raise PlanError naming the first problem."""
    from plans.models import Intensity, Phase

    if not isinstance(changes, PlanChanges):
        try:
            changes = PlanChanges.model_validate(changes)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise PlanError(_change_problem(plan, changes, first)) from None
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
    _require_counselor(plan, by)
    reason = _reason(reason)
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
            removed_goals.append(_goal_state(goals[goal_id]))
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
            added_goals.append(_goal_state(goal))

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
                iv_diff.setdefault("removed", []).append(_intervention_state(intervention))
                intervention.delete()
        for add in changes.interventions_add:
            goal = Goal.objects.get(pk=add.goal, plan=locked)
            details = _details(
                add.details, catalog, _("New intervention for “%(title)s”") % {"title": goal.title}
            )
            slot = goal.interventions.count()
            intervention = Intervention.objects.create(
                goal=goal, kind=details["kind"], details=details, position=slot
            )
            iv_diff.setdefault("added", []).append(_intervention_state(intervention))

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
        _bump(locked, *plan_fields)
        _record(locked, by, ChangeAction.UPDATED, reason, diff)
    plan.refresh_from_db()
    return plan


# --- Approval ---------------------------------------------------------------------------------


@dataclass
class ApprovalReport:
    plan: Plan
    put_in_place: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cancelled: list[dict] = field(default_factory=list)  # retest assignments


def _appointment_time(day: dt.date) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(APPOINTMENT_HOUR, 0))
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _activate(intervention: Intervention, person: Person, by: User, today: dt.date, report) -> None:
    details = intervention_def(intervention.details)
    goal = intervention.goal
    if isinstance(details, CourseDef):
        courses = CoursePage.objects.live().filter(
            **({"slug": details.slug} if details.slug else {"topic": details.topic})
        )
        courses = list(courses.order_by("path"))
        if not courses:
            what = details.slug or str(details.topic)
            report.warnings.append(
                _("No published course matches “%(what)s”: enroll the person by hand later.")
                % {"what": what}
            )
            return
        from learning.enrollment import do_enroll

        for course in courses:
            if not Enrollment.objects.filter(person=person, course=course).exists():
                do_enroll(by, course, Person.objects.filter(pk=person.pk), goal.due)
        enrollments = list(Enrollment.objects.filter(person=person, course__in=courses))
        if not enrollments:
            report.warnings.append(
                _("%(name)s could not be enrolled (supervision has ended?).")
                % {"name": person.full_name}
            )
            return
        intervention.enrollments.set(enrollments)
        report.put_in_place.append(
            _("Enrolled in: %(courses)s") % {"courses": "、".join(c.title for c in courses)}
        )
    elif isinstance(details, LectureSeriesDef):
        lectures = do_book_lecture_series(person, details.topic, goal.due)
        if not lectures:
            report.warnings.append(
                _(
                    "No upcoming lecture on “%(topic)s” before %(due)s: add the person to a "
                    "lecture by hand, or revise the plan once one is scheduled."
                )
                % {"topic": Topic(details.topic).label, "due": goal.due.isoformat()}
            )
            return
        intervention.lectures.set(lectures)
        report.put_in_place.append(
            _("Lectures on %(topic)s: %(lectures)s")
            % {
                "topic": Topic(details.topic).label,
                "lectures": "、".join(
                    f"{timezone.localtime(lecture.start):%Y-%m-%d} {lecture.title}"
                    for lecture in lectures
                ),
            }
        )
    elif isinstance(details, RetestDef):
        due = today + dt.timedelta(days=details.interval_days)
        created = True
        try:
            assignment = do_assign(details.instrument, person, by, AssignmentReason.PERIODIC, due)
        except AssessmentError:
            created = False
            assignment = (
                Assignment.objects.filter(
                    person=person, instrument_version__instrument__slug=details.instrument
                )
                .open()
                .order_by("-assigned_at")
                .first()
            )
            if assignment is None:
                report.warnings.append(
                    _(
                        "The questionnaire “%(slug)s” is not in the library: "
                        "assign the retest by hand."
                    )
                    % {"slug": details.instrument}
                )
                return
        intervention.assignment = assignment
        intervention.assignment_created = created
        intervention.save(update_fields=["assignment", "assignment_created"])
        report.put_in_place.append(
            _("Retest of %(slug)s due %(due)s")
            % {"slug": details.instrument, "due": (assignment.due or due).isoformat()}
        )
    elif isinstance(details, CounselingDef):
        for number in range(1, details.sessions + 1):
            CounselingAppointment.objects.create(
                person=person,
                counselor=by,
                intervention=intervention,
                scheduled_at=_appointment_time(
                    today + dt.timedelta(days=details.interval_days * number)
                ),
            )
        report.put_in_place.append(
            _("%(count)s counseling appointments, every %(days)s days")
            % {"count": details.sessions, "days": details.interval_days}
        )
    intervention.activated_at = timezone.now()
    intervention.save(update_fields=["activated_at"])


def series_lectures(person: Person, topic: str, until: dt.date, now: dt.datetime | None = None):
    """The lectures a lecture series on ``topic`` means for ``person``: not yet ended,
    starting on or before ``until`` (the goal's due date), soonest first."""
    now = now or timezone.now()
    end = timezone.make_aware(
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min),
        timezone.get_default_timezone(),
    )
    return Lecture.objects.filter(topic=topic, start__lt=end).upcoming(now)


def _joinable(person: Person):
    """Lectures held for the person's area although the person is not in their audience (for
    instance the lecture is for another supervision category): their audience rule names
    the person's office or an office above it, or names no office but some category."""
    path, step = person.office.path, person.office.steplen
    lineage = [path[:end] for end in range(step, len(path) + 1, step)]
    offices = Lecture.audience_offices.through.objects.filter(lecture=OuterRef("pk"))
    categories = Lecture.audience_categories.through.objects.filter(lecture=OuterRef("pk"))
    return Q(Exists(offices.filter(office__path__in=lineage))) | (
        ~Q(Exists(offices)) & Q(Exists(categories))
    )


def do_book_lecture_series(
    person: Person, topic: str, until: dt.date, now: dt.datetime | None = None
) -> list[Lecture]:
    """Put ``person`` in the audience of the upcoming lectures on ``topic`` up to ``until``
    and return every such lecture the person is now in the audience of.

    Lectures whose audience already holds the person are kept as they are. Lectures held for
    the person's area that have not started and whose audience is not fixed yet
    (``audience_resolved_at`` empty) get the person as a named member (locked, so the
    audience cannot be fixed meanwhile). A person no longer under supervision is booked
    nowhere."""
    now = now or timezone.now()
    if person.status != PersonStatus.ACTIVE:
        return []
    lectures = series_lectures(person, topic, until, now)
    with transaction.atomic():
        joinable = list(
            lectures.unresolved()
            .filter(start__gt=now)
            .exclude(pk__in=lectures.for_person(person).values("pk"))
            .filter(_joinable(person))
            .values_list("pk", flat=True)
        )
        locked = list(
            Lecture.objects.select_for_update()
            .filter(pk__in=joinable, audience_resolved_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Lecture.audience_persons.through.objects.bulk_create(
            [Lecture.audience_persons.through(lecture_id=pk, person_id=person.pk) for pk in locked],
            ignore_conflicts=True,
        )
        return list(lectures.for_person(person).select_related("lecturer"))


def _schedule_review(plan: Plan, after: dt.date) -> PlanReview | None:
    if plan.reviews.filter(held_at__isnull=True).exists():
        return None
    person = plan.person
    day, reason = next_review(person.supervision_start, person.supervision_end, after)
    return PlanReview.objects.create(plan=plan, scheduled_for=day, reason=reason)


def do_approve_plan(plan: Plan, by: User, expected_revision: int | None = None) -> ApprovalReport:
    """Approve the draft ``plan`` as one of the person's own counselors and put its
    interventions in place: course enrollments, retest assignments, counseling appointments.
    The version it replaces is closed; the next review is scheduled; the person is told."""
    _require_counselor(plan, by)
    today = timezone.localdate()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().select_related("person").get(pk=plan.pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleRevision(
                _(
                    "This plan was changed after you opened it; nothing was approved. "
                    "Check the changes, then approve again."
                )
            )
        if locked.status != PlanStatus.DRAFT:
            raise PlanError(_("Only a draft can be approved."))
        goals = list(locked.goals.prefetch_related("interventions"))
        if not goals:
            raise PlanError(_("Add at least one goal before approving the plan."))
        for goal in goals:
            if not goal.target.strip():
                raise PlanError(
                    _("Goal “%(title)s”: a measurable target is required.") % {"title": goal.title}
                )
        report = ApprovalReport(plan=locked)
        previous = (
            Plan.objects.select_for_update()
            .filter(person=locked.person, status=PlanStatus.APPROVED)
            .first()
        )
        if previous is not None:
            previous.status = PlanStatus.CLOSED
            previous.closed_at = timezone.now()
            previous.closed_reason = (
                _("Replaced by version %(version)s") % {"version": locked.version}
            )[:200]
            _bump(previous, "status", "closed_at", "closed_reason")
            _record(previous, by, ChangeAction.CLOSED, previous.closed_reason)
            previous.reviews.filter(held_at__isnull=True).delete()
            _carry_appointments(previous, locked, today)
            dropped = Intervention.objects.filter(goal__plan=previous).exclude(
                pk__in=Intervention.objects.filter(
                    goal__plan=locked, carried_from__isnull=False
                ).values("carried_from_id")
            )
            for item in _cancel_retests(
                dropped, by, f"retest dropped from plan version {locked.version}"
            ):
                report.cancelled.append(item)
                report.put_in_place.append(
                    _("Retest of %(slug)s cancelled: it is no longer in the plan")
                    % {"slug": item["instrument"]}
                )
        for goal in goals:
            for intervention in goal.interventions.all():
                if intervention.activated_at is None:
                    _activate(intervention, locked.person, by, today, report)
        locked.status = PlanStatus.APPROVED
        locked.approved_by = by
        locked.approved_at = timezone.now()
        locked.acknowledged_at = None
        _bump(locked, "status", "approved_by", "approved_at", "acknowledged_at")
        review = _schedule_review(locked, today)
        _record(
            locked,
            by,
            ChangeAction.APPROVED,
            _("Plan approved"),
            {
                "put_in_place": report.put_in_place,
                "warnings": report.warnings,
                **({"retests_cancelled": report.cancelled} if report.cancelled else {}),
                "next_review": review.scheduled_for.isoformat() if review else None,
            },
        )
        _tell_person(locked)
    plan.refresh_from_db()
    report.plan = plan
    return report


def _carry_appointments(previous: Plan, new: Plan, today: dt.date) -> None:
    """Appointments follow their intervention into the new version; those of counseling the
    new version dropped are cancelled from today on."""
    carried = dict(
        Intervention.objects.filter(goal__plan=new, carried_from__isnull=False).values_list(
            "carried_from_id", "pk"
        )
    )
    for old_id, new_id in carried.items():
        CounselingAppointment.objects.filter(intervention_id=old_id).update(intervention_id=new_id)
    CounselingAppointment.objects.filter(
        intervention__goal__plan=previous,
        status=AppointmentStatus.SCHEDULED,
        scheduled_at__gte=_appointment_time(today).replace(hour=0),
    ).update(status=AppointmentStatus.CANCELLED)


def _cancel_retests(interventions, by: User | None, reason: str) -> list[dict]:
    """Cancel the pending retest assignments that approval created for ``interventions``
    (dropped from a revision, or of a closed goal), unless an active goal of a plan in force
    or in draft still links them. An assignment already answered is left alone. Returns what
    was cancelled, for the history."""
    from assessments.services import AssignmentNotPending, do_cancel_assignment

    interventions = list(interventions)
    ids = {i.assignment_id for i in interventions if i.assignment_id and i.assignment_created}
    if not ids:
        return []
    still_wanted = set(
        Intervention.objects.filter(
            assignment_id__in=ids,
            goal__status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED],
            goal__plan__status__in=[PlanStatus.DRAFT, PlanStatus.APPROVED],
        )
        .exclude(pk__in=[i.pk for i in interventions])
        .values_list("assignment_id", flat=True)
    )
    cancelled = []
    pending = (
        Assignment.objects.open()
        .filter(pk__in=ids - still_wanted)
        .select_related("instrument_version__instrument")
        .order_by("pk")
    )
    for assignment in pending:
        try:
            do_cancel_assignment(assignment, by=by, reason=reason)
        except AssignmentNotPending:  # answered meanwhile: the answer counts
            continue
        slug = assignment.instrument_version.instrument.slug
        cancelled.append({"assignment": assignment.pk, "instrument": slug})
    return cancelled


def _tell_person(plan: Plan) -> None:
    from notifications.models import NotificationKind
    from notifications.services import notify

    user = plan.person.user
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            user,
            kind=NotificationKind.PLAN,
            title=_("Your support plan is ready"),
            body=_("Please read it and confirm that you have seen it."),
            url=reverse("plans_mine"),
            dedupe_key=f"plans:approved:{plan.pk}",
        )


# --- The person -------------------------------------------------------------------------------


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


def do_acknowledge(plan: Plan, person_user: User) -> Plan:
    """The person confirms they have read their plan in force. Idempotent."""
    if plan.person.user_id != person_user.pk:
        raise Http404("No such plan")
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PlanStatus.APPROVED:
            raise PlanError(_("This plan is no longer in force."))
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            _bump(locked, "acknowledged_at")
            _record(locked, person_user, ChangeAction.ACKNOWLEDGED, _("Read by the person"))
    plan.acknowledged_at = locked.acknowledged_at
    plan.revision = locked.revision
    return plan


# --- Progress, appointments, reviews, closing ---------------------------------------------------


def do_add_note(plan: Plan, by: User, text: str, goal: Goal | None = None) -> ProgressNote:
    _require_counselor(plan, by)
    text = (text or "").strip()
    if not text:
        raise PlanError(_("The note is empty."))
    if goal is not None and goal.plan_id != plan.pk:
        raise PlanError(_("Goal %(id)s is not part of this plan.") % {"id": goal.pk})
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        note = ProgressNote.objects.create(plan=locked, goal=goal, author=by, text=text[:4000])
        _bump(locked)
        _record(
            locked,
            by,
            ChangeAction.NOTE,
            _("Progress note"),
            {"note": note.pk, "goal": goal and goal.pk},
        )
    return note


def do_record_appointment(
    appointment: CounselingAppointment, by: User, status: str, note: str = ""
) -> CounselingAppointment:
    """Record whether the person came (attended / missed / cancelled)."""
    if not is_own_counselor(by, appointment.person_id):
        raise PlanError(_("Only one of this person's own counselors can do this."))
    if status not in AppointmentStatus.values or status == AppointmentStatus.SCHEDULED:
        raise PlanError(_("Choose attended, missed or cancelled."))
    with transaction.atomic():
        locked = CounselingAppointment.objects.select_for_update().get(pk=appointment.pk)
        before = locked.status
        locked.status = status
        locked.note = (note or "").strip()[:500]
        locked.recorded_by = by
        locked.recorded_at = timezone.now()
        locked.save(update_fields=["status", "note", "recorded_by", "recorded_at"])
        plan = (
            Plan.objects.select_for_update()
            .filter(goals__interventions__appointments=locked)
            .first()
        )
        if plan is not None:
            _bump(plan)
            _record(
                plan,
                by,
                ChangeAction.APPOINTMENT,
                _("Appointment of %(when)s: %(status)s")
                % {
                    "when": timezone.localtime(locked.scheduled_at).strftime("%Y-%m-%d %H:%M"),
                    "status": AppointmentStatus(status).label,
                },
                {"appointment": locked.pk, "status": [before, status]},
            )
    return locked


def do_record_review(
    plan: Plan,
    by: User,
    decisions: dict[int, str],
    notes: str = "",
    met: set[int] | frozenset[int] = frozenset(),
    expected_revision: int | None = None,
) -> tuple[PlanReview, Plan | None]:
    """Record a review of the plan in force: a decision (continue / adjust / close) for each
    active goal; ``met`` names the closed goals that were reached. The phase follows the
    supervision period; the next review is scheduled (three months, or the next phase change).
    Goals to adjust start a revision draft, returned with the review."""
    _require_counselor(plan, by)
    today = timezone.localdate()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().select_related("person").get(pk=plan.pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleRevision(
                _("This plan was changed after you opened it; the review was not saved.")
            )
        if locked.status != PlanStatus.APPROVED:
            raise PlanError(_("Only the plan in force can be reviewed."))
        active = {
            g.pk: g for g in locked.goals.filter(status__in=[GoalStatus.OPEN, GoalStatus.ADJUSTED])
        }
        unknown = [pk for pk in decisions if pk not in active]
        if unknown:
            raise PlanError(_("Goal %(id)s is not an open goal of this plan.") % {"id": unknown[0]})
        missing = [g.title for pk, g in active.items() if pk not in decisions]
        if missing:
            raise PlanError(
                _("Decide on every open goal: %(goals)s") % {"goals": "；".join(missing)}
            )
        for value in decisions.values():
            if value not in ReviewDecision.values:
                raise PlanError(_("Unknown decision “%(value)s”.") % {"value": value})
        recorded = []
        for pk, decision in decisions.items():
            goal = active[pk]
            new_status = {
                ReviewDecision.CONTINUE: goal.status,
                ReviewDecision.ADJUST: GoalStatus.ADJUSTED,
                ReviewDecision.CLOSE: GoalStatus.MET if pk in met else GoalStatus.CLOSED,
            }[ReviewDecision(decision)]
            recorded.append(
                {"goal": pk, "decision": decision, "met": decision == "close" and pk in met}
            )
            if new_status != goal.status:
                goal.status = new_status
                goal.save(update_fields=["status"])
        closed = [pk for pk, d in decisions.items() if d == ReviewDecision.CLOSE]
        cancelled = _cancel_retests(
            Intervention.objects.filter(goal_id__in=closed), by, "goal closed at a plan review"
        )
        review = locked.reviews.filter(held_at__isnull=True).order_by("scheduled_for").first()
        if review is None:
            review = PlanReview(plan=locked, scheduled_for=today, reason=ReviewReason.AD_HOC)
        review.held_at = timezone.now()
        review.held_by = by
        review.decisions = recorded
        review.notes = (notes or "").strip()[:4000]
        review.save()
        fields = []
        diff: dict = {"review": review.pk, "decisions": recorded}
        if cancelled:
            diff["retests_cancelled"] = cancelled
        phase = phase_for(locked.person.supervision_start, locked.person.supervision_end, today)
        if phase != locked.phase:
            diff["plan"] = {"phase": [locked.phase, phase]}
            locked.phase = phase
            fields.append("phase")
        _bump(locked, *fields)
        if any(d["decision"] != ReviewDecision.CLOSE for d in recorded):
            upcoming = _schedule_review(locked, today)
            diff["next_review"] = upcoming.scheduled_for.isoformat() if upcoming else None
        _record(locked, by, ChangeAction.REVIEWED, _("Plan review held"), diff)
    draft = None
    if any(d["decision"] == ReviewDecision.ADJUST for d in recorded):
        draft = do_revise_plan(plan, by, _("Goals to adjust after the review"))
    plan.refresh_from_db()
    return review, draft


def do_close_plan(plan: Plan, by: User, reason: str) -> Plan:
    _require_counselor(plan, by)
    reason = _reason(reason)
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status == PlanStatus.CLOSED:
            raise PlanError(_("This plan is already closed."))
        locked.status = PlanStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_reason = reason[:200]
        _bump(locked, "status", "closed_at", "closed_reason")
        locked.reviews.filter(held_at__isnull=True).delete()
        CounselingAppointment.objects.filter(
            intervention__goal__plan=locked,
            status=AppointmentStatus.SCHEDULED,
            scheduled_at__gte=timezone.now(),
        ).update(status=AppointmentStatus.CANCELLED)
        cancelled = _cancel_retests(
            Intervention.objects.filter(goal__plan=locked), by, f"plan closed: {reason}"
        )
        _record(
            locked,
            by,
            ChangeAction.CLOSED,
            reason,
            {"retests_cancelled": cancelled} if cancelled else None,
        )
    plan.refresh_from_db()
    return plan


# --- Subject-access export (people.privacy.PERSON_DATA_COLLECTORS) -----------------------------


def collect_plan_data(person: Person) -> dict:
    """Everything the plans app holds about a person."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    plans = []
    for plan in Plan.objects.filter(person=person).prefetch_related(
        "goals__interventions", "reviews", "notes", "changes"
    ):
        plans.append(
            {
                "version": plan.version,
                "status": plan.status,
                "phase": plan.phase,
                "support_intensity": plan.support_intensity,
                "intensity_explanation": plan.intensity_explanation,
                "needs": plan.needs,
                "approved_at": when(plan.approved_at),
                "acknowledged_at": when(plan.acknowledged_at),
                "closed_at": when(plan.closed_at),
                "goals": [
                    {
                        **_goal_state(goal),
                        "interventions": [i.details for i in goal.interventions.all()],
                    }
                    for goal in plan.goals.all()
                ],
                "reviews": [
                    {
                        "scheduled_for": r.scheduled_for.isoformat(),
                        "held_at": when(r.held_at),
                        "decisions": r.decisions,
                        "notes": r.notes,
                    }
                    for r in plan.reviews.all()
                ],
                "notes": [{"text": n.text, "at": when(n.created_at)} for n in plan.notes.all()],
                "history": [
                    {"action": c.action, "reason": c.reason, "at": when(c.at), "diff": c.diff}
                    for c in plan.changes.all()
                ],
            }
        )
    return {
        "plans": {
            "plans": plans,
            "intake_facts": [
                {**f.as_dict(), "note": f.note, "recorded_at": when(f.recorded_at)}
                for f in IntakeFacts.objects.filter(person=person).order_by("recorded_at", "pk")
            ],
            "appointments": [
                {
                    "at": when(a.scheduled_at),
                    "status": a.status,
                    "note": a.note,
                }
                for a in CounselingAppointment.objects.filter(person=person)
            ],
        }
    }
