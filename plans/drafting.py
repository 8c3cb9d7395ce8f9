"""Drafting a plan: the person's needs are gathered (reviewed questionnaire results, intake
facts, participation, quiz accuracy), the rule set turns them into suggested goals and
interventions, and a draft is made or refreshed. Also the officer's intake facts, which
draft or update the plan, and a revision of the plan in force, which starts a new draft."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Result
from audit.models import Action
from audit.services import record_access
from learning.models import QuizAttempt
from learning.services import quota_hours_for
from participation.models import ParticipationRecord
from people.models import Person, User
from plans.access import require_counselor
from plans.errors import PlanError
from plans.history import bump_revision, check_reason, goal_state, record_change
from plans.models import (
    ChangeAction,
    Goal,
    GoalStatus,
    IntakeFacts,
    Intervention,
    Plan,
    PlanStatus,
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
from plans.rules import RuleSetMissing, current_rule_set
from plans.schedule import add_months, phase_for
from plans.schema import FACTS, Domain, PlanRulesDef, RetestDef

logger = logging.getLogger(__name__)


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
                    removed.append(goal_state(goal))
                    goal.delete()
            added = _suggest_goals(draft, profile, rules, changed, today)
            before = {"intensity": draft.support_intensity}
            draft.needs = profile.as_dict()
            draft.support_intensity = profile.intensity
            draft.intensity_explanation = why
            bump_revision(draft, "needs", "support_intensity", "intensity_explanation")
            record_change(
                draft,
                by,
                ChangeAction.DRAFTED,
                reason,
                {
                    "levels_changed": changed,
                    "goals": {
                        "added": [goal_state(g) for g in added],
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
            record_change(
                draft,
                by,
                ChangeAction.DRAFTED,
                reason,
                {
                    "from_version": approved.version,
                    "levels_changed": changed,
                    "goals": {"added": [goal_state(g) for g in added]},
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
        record_change(
            draft,
            by,
            ChangeAction.DRAFTED,
            reason,
            {"levels": profile.levels(), "goals": {"added": [goal_state(g) for g in added]}},
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
    """Run by ``assessments.taking.do_review`` once a review is signed (registered in
    ``PlansConfig.ready()``): only reviewed results feed the plan. A missing rule set is
    logged, never blocks the review."""
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
    require_counselor(plan, by)
    reason = check_reason(reason)
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
        record_change(draft, by, ChangeAction.DRAFTED, reason, {"from_version": locked.version})
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
