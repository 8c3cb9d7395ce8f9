"""Staff forms of the plans admin. The edit form turns its fields into the ``changes`` that
``services.do_update_plan`` validates; the form itself only checks shapes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.models import Topic
from lib.validation import plain_error
from lib.widgets import DateInput
from plans.models import (
    AppointmentStatus,
    Goal,
    Intensity,
    Phase,
    Plan,
    ReviewDecision,
)
from plans.schema import (
    FACTS,
    Attitude,
    Domain,
    Education,
    Employment,
    Family,
    Finances,
    Housing,
    InterventionKind,
    SocialTies,
)

DATE = DateInput()

# The parameters of each intervention kind, in form order (plans.schema.*Def).
PARAMS: dict[str, tuple[str, ...]] = {
    InterventionKind.COUNSELING: ("interval_days", "sessions"),
    InterventionKind.COURSE: ("slug", "topic"),
    InterventionKind.LECTURE_SERIES: ("topic",),
    InterventionKind.RETEST: ("instrument", "interval_days"),
    InterventionKind.REFERRAL: ("service", "contact"),
}
PARAM_LABELS = {
    "interval_days": _("Every (days)"),
    "sessions": _("Sessions"),
    "slug": _("Course slug"),
    "topic": _("Topic"),
    "instrument": _("Questionnaire (slug)"),
    "service": _("Service"),
    "contact": _("Contact"),
}
ALL_PARAMS = tuple(PARAM_LABELS)


def _param_field(name: str, initial=None) -> forms.Field:
    if name == "topic":
        return forms.ChoiceField(
            label=PARAM_LABELS[name],
            choices=[("", "—"), *Topic.choices],
            required=False,
            initial=initial,
        )
    return forms.CharField(
        label=PARAM_LABELS[name], required=False, max_length=200, initial=initial
    )


def _details(kind: str, values: dict) -> dict:
    details = {"kind": kind}
    for name in PARAMS.get(kind, ()):
        value = values.get(name)
        if value not in (None, ""):
            details[name] = value
    return details


class IntakeForm(forms.Form):
    employment = forms.ChoiceField(label=_("Employment"), choices=Employment.choices)
    education = forms.ChoiceField(label=_("Education"), choices=Education.choices)
    housing = forms.ChoiceField(label=_("Housing"), choices=Housing.choices)
    finances = forms.ChoiceField(label=_("Finances"), choices=Finances.choices)
    family = forms.ChoiceField(label=_("Family situation"), choices=Family.choices)
    social_ties = forms.ChoiceField(label=_("Social ties"), choices=SocialTies.choices)
    attitude = forms.ChoiceField(label=_("Attitude towards the offence"), choices=Attitude.choices)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )


class PlanEditForm(forms.Form):
    """One form for a whole draft: plan fields, each goal and intervention, one new goal and
    one new intervention. ``revision`` is the revision the editor started from."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(
        label=_("Why are you making these changes?"),
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    support_intensity = forms.ChoiceField(label=_("Support intensity"), choices=Intensity.choices)
    intensity_explanation = forms.CharField(
        label=_("Why this intensity (plain words, no diagnosis)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    new_domain = forms.ChoiceField(
        label=_("Need area"), choices=[("", "—"), *Domain.choices], required=False
    )
    new_title = forms.CharField(label=_("New goal"), max_length=500, required=False)
    new_target = forms.CharField(label=_("Measurable target"), max_length=500, required=False)
    new_due = forms.DateField(label=_("Due"), required=False, widget=DATE)
    add_goal = forms.ChoiceField(label=_("Add an intervention to"), required=False)
    add_kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *InterventionKind.choices], required=False
    )

    def __init__(self, *args, plan: Plan, goals: list[Goal], **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.goals = goals
        if not self.is_bound:
            self.initial.update(
                {
                    "revision": plan.revision,
                    "phase": plan.phase,
                    "support_intensity": plan.support_intensity,
                    "intensity_explanation": plan.intensity_explanation,
                }
            )
        self.fields["add_goal"].choices = [("", "—"), *((str(g.pk), g.title) for g in goals)]
        for name in ALL_PARAMS:
            self.fields[f"add_{name}"] = _param_field(name)
        for goal in goals:
            prefix = f"g{goal.pk}"
            # Not required: a goal missing from the POST (added by someone else meanwhile)
            # is left as it is, so a stale form still reaches the revision check.
            self.fields[f"{prefix}_domain"] = forms.ChoiceField(
                label=_("Need area"), choices=Domain.choices, initial=goal.domain, required=False
            )
            self.fields[f"{prefix}_title"] = forms.CharField(
                label=_("Goal"), max_length=500, initial=goal.title, required=False
            )
            self.fields[f"{prefix}_target"] = forms.CharField(
                label=_("Measurable target"), max_length=500, initial=goal.target, required=False
            )
            self.fields[f"{prefix}_due"] = forms.DateField(
                label=_("Due"), initial=goal.due, widget=DATE, required=False
            )
            self.fields[f"{prefix}_remove"] = forms.BooleanField(
                label=_("Remove this goal"), required=False
            )
            for intervention in goal.interventions.all():
                iprefix = f"i{intervention.pk}"
                for name in PARAMS.get(intervention.kind, ()):
                    self.fields[f"{iprefix}_{name}"] = _param_field(
                        name, intervention.details.get(name)
                    )
                self.fields[f"{iprefix}_remove"] = forms.BooleanField(
                    label=_("Remove"), required=False
                )

    # For the template: the bound fields of each goal and intervention.
    def goal_rows(self):
        rows = []
        for goal in self.goals:
            prefix = f"g{goal.pk}"
            interventions = [
                (
                    intervention,
                    [self[f"i{intervention.pk}_{n}"] for n in PARAMS.get(intervention.kind, ())],
                    self[f"i{intervention.pk}_remove"],
                )
                for intervention in goal.interventions.all()
            ]
            rows.append(
                {
                    "goal": goal,
                    "fields": [self[f"{prefix}_{n}"] for n in ("domain", "title", "target", "due")],
                    "remove": self[f"{prefix}_remove"],
                    "interventions": interventions,
                }
            )
        return rows

    def add_fields(self):
        return [self[f"add_{name}"] for name in ALL_PARAMS]

    def changes(self) -> dict:
        """The ``services.PlanChanges`` the cleaned form asks for."""
        data = self.cleaned_data
        changes: dict = {
            "phase": data["phase"],
            "support_intensity": data["support_intensity"],
            "intensity_explanation": data["intensity_explanation"],
            "goals_update": [],
            "goals_remove": [],
            "interventions_update": [],
            "interventions_remove": [],
        }
        for goal in self.goals:
            prefix = f"g{goal.pk}"
            if data.get(f"{prefix}_remove"):
                changes["goals_remove"].append(goal.pk)
                continue
            edit = {"id": goal.pk}
            for name in ("domain", "title", "target", "due"):
                key = f"{prefix}_{name}"
                if key in self.data:  # a field sent empty is a change (and refused if required)
                    edit[name] = data.get(key) if data.get(key) is not None else ""
            if len(edit) > 1:
                changes["goals_update"].append(edit)
            for intervention in goal.interventions.all():
                iprefix = f"i{intervention.pk}"
                if data.get(f"{iprefix}_remove"):
                    changes["interventions_remove"].append(intervention.pk)
                    continue
                names = [
                    n for n in PARAMS.get(intervention.kind, ()) if f"{iprefix}_{n}" in self.data
                ]
                if not names:
                    continue
                values = {**intervention.details}
                values.update({n: data.get(f"{iprefix}_{n}") for n in names})
                changes["interventions_update"].append(
                    {"id": intervention.pk, "details": _details(intervention.kind, values)}
                )
        if data.get("new_title") or data.get("new_target"):
            changes["goals_add"] = [
                {
                    "domain": data.get("new_domain") or Domain.LEGAL,
                    "title": data.get("new_title", ""),
                    "target": data.get("new_target", ""),
                    "due": data.get("new_due"),
                }
            ]
        if data.get("add_kind"):
            values = {n: data.get(f"add_{n}") for n in ALL_PARAMS}
            changes["interventions_add"] = [
                {
                    "goal": int(data["add_goal"]) if data.get("add_goal") else 0,
                    "details": _details(data["add_kind"], values),
                }
            ]
        return changes

    def clean(self):
        data = super().clean()
        if (data.get("new_title") or data.get("new_target")) and not data.get("new_due"):
            self.add_error("new_due", _("Give the new goal a due date."))
        if data.get("add_kind") and not data.get("add_goal"):
            self.add_error("add_goal", _("Choose the goal the intervention serves."))
        for goal in self.goals:
            name = f"g{goal.pk}_due"
            if name in self.data and not data.get(f"g{goal.pk}_remove") and not data.get(name):
                if name not in self.errors:
                    self.add_error(name, _("Give the goal a due date."))
        return data


class ReviewForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    notes = forms.CharField(
        label=_("Notes of the review"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
    )

    def __init__(self, *args, plan: Plan, goals: list[Goal], **kwargs):
        super().__init__(*args, **kwargs)
        self.goals = goals
        if not self.is_bound:
            self.initial["revision"] = plan.revision
        for goal in goals:
            self.fields[f"d{goal.pk}"] = forms.ChoiceField(
                label=goal.title,
                choices=ReviewDecision.choices,
                initial=ReviewDecision.CONTINUE,
                widget=forms.RadioSelect,
            )
            self.fields[f"m{goal.pk}"] = forms.BooleanField(
                label=_("Closed because the goal was met"), required=False
            )

    def goal_rows(self):
        return [(g, self[f"d{g.pk}"], self[f"m{g.pk}"]) for g in self.goals]

    def decisions(self) -> tuple[dict[int, str], set[int]]:
        data = self.cleaned_data
        decisions = {g.pk: data[f"d{g.pk}"] for g in self.goals}
        met = {g.pk for g in self.goals if data.get(f"m{g.pk}")}
        return decisions, met


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Progress note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    goal = forms.ModelChoiceField(
        label=_("About the goal"), queryset=Goal.objects.none(), required=False
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].queryset = plan.goals.all()


class AppointmentForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in AppointmentStatus.choices if c[0] != AppointmentStatus.SCHEDULED],
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("Why is the plan closed?"), max_length=500)


FACT_LABELS = {
    "employment": _("Employment"),
    "education": _("Education"),
    "housing": _("Housing"),
    "finances": _("Finances"),
    "family": _("Family situation"),
    "social_ties": _("Social ties"),
    "attitude": _("Attitude towards the offence"),
}
GOAL_TEXTS = ("title_zh", "title_en", "target_zh", "target_en")
EXTRA_GOALS = 1
EXTRA_INTERVENTIONS = 2


class RuleCellForm(forms.Form):
    """The rules of one need area at one level: the results and intake facts that raise the
    area to the level, and the goals (each with its interventions) a draft then suggests.
    ``cell()`` gives what ``plans.rules.with_rule`` takes; ``place_errors`` puts the
    schema's complaints beside the fields they concern."""

    note = forms.CharField(
        label=_("What changed and why"),
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args, rules, domain: str, level: str, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.domain, self.level = domain, level
        self.raises = level != "low"  # signals raise an area; low is where every area starts
        if self.raises:
            chosen = [
                f"{s.instrument}|{s.scale}|{'!critical' if s.critical else s.band_at_least}"
                for s in rules.signals.results
                if (s.domain, s.level) == (domain, level)
            ]
            known = dict(options)
            self.fields["results"] = forms.MultipleChoiceField(
                label=_("Reviewed results that raise this need to this level"),
                choices=[*options, *((c, c) for c in chosen if c not in known)],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=chosen,
            )
            for fact, labels in FACT_LABELS.items():
                values = [
                    value
                    for s in rules.signals.facts
                    if (s.domain, s.level, s.fact) == (domain, level, fact)
                    for value in s.values
                ]
                self.fields[f"fact_{fact}"] = forms.MultipleChoiceField(
                    label=labels,
                    choices=FACTS[fact].choices,
                    widget=forms.CheckboxSelectMultiple,
                    required=False,
                    initial=values,
                )
        rule = rules.rule_for(domain, level)
        goals = list(rule.goals) if rule else []
        self.shape: list[int] = []  # interventions rows per goal row
        for row in range(len(goals) + EXTRA_GOALS):
            goal = goals[row] if row < len(goals) else None
            self._goal_fields(row, goal)
            items = list(goal.interventions) if goal else []
            for slot in range(len(items) + EXTRA_INTERVENTIONS):
                self._intervention_fields(row, slot, items[slot] if slot < len(items) else None)
            self.shape.append(len(items) + EXTRA_INTERVENTIONS)

    def _goal_fields(self, row: int, goal) -> None:
        prefix = f"g{row}"
        texts = {
            "title_zh": (_("Goal (Chinese)"), goal.title.zh_hans if goal else ""),
            "title_en": (_("Goal (English)"), goal.title.en if goal else ""),
            "target_zh": (_("Measurable target (Chinese)"), goal.target.zh_hans if goal else ""),
            "target_en": (_("Measurable target (English)"), goal.target.en if goal else ""),
        }
        for name, (label, initial) in texts.items():
            self.fields[f"{prefix}_{name}"] = forms.CharField(
                label=label, max_length=500, required=False, initial=initial
            )
        self.fields[f"{prefix}_due_in_days"] = forms.IntegerField(
            label=_("Due after (days)"),
            min_value=7,
            max_value=730,
            initial=goal.due_in_days if goal else 90,
            required=False,
        )
        self.fields[f"{prefix}_remove"] = forms.BooleanField(
            label=_("Remove this goal"), required=False
        )

    def _intervention_fields(self, row: int, slot: int, item) -> None:
        prefix = f"g{row}_i{slot}"
        self.fields[f"{prefix}_kind"] = forms.ChoiceField(
            label=_("Kind"),
            choices=[("", _("— none —")), *InterventionKind.choices],
            required=False,
            initial=item.kind if item else "",
        )
        for name in ALL_PARAMS:
            value = getattr(item, name, None) if item else None
            self.fields[f"{prefix}_{name}"] = _param_field(name, value)

    # For the template.
    def signal_fields(self):
        if not self.raises:
            return []
        return [self["results"], *(self[f"fact_{fact}"] for fact in FACT_LABELS)]

    def goal_rows(self):
        return [
            {
                "number": row + 1,
                "fields": [self[f"g{row}_{n}"] for n in (*GOAL_TEXTS, "due_in_days")],
                "remove": self[f"g{row}_remove"],
                "interventions": [
                    [self[f"g{row}_i{slot}_{n}"] for n in ("kind", *ALL_PARAMS)]
                    for slot in range(count)
                ],
            }
            for row, count in enumerate(self.shape)
        ]

    def cell(self) -> tuple[dict | None, dict]:
        """(the rule for the cell or ``None``, its signals) from the cleaned form. Empty goal
        rows and intervention rows without a kind are left out."""
        data = self.cleaned_data
        self._rows: list[tuple[int, list[int]]] = []
        goals = []
        for row, count in enumerate(self.shape):
            prefix = f"g{row}"
            texts = {n: (data.get(f"{prefix}_{n}") or "").strip() for n in GOAL_TEXTS}
            if data.get(f"{prefix}_remove") or not any(texts.values()):
                continue
            interventions, slots = [], []
            for slot in range(count):
                kind = data.get(f"{prefix}_i{slot}_kind")
                if not kind:
                    continue
                values = {n: data.get(f"{prefix}_i{slot}_{n}") for n in ALL_PARAMS}
                interventions.append(_details(kind, values))
                slots.append(slot)
            goals.append(
                {
                    "title": {"zh-hans": texts["title_zh"], "en": texts["title_en"]},
                    "target": {"zh-hans": texts["target_zh"], "en": texts["target_en"]},
                    "due_in_days": data.get(f"{prefix}_due_in_days") or 90,
                    "interventions": interventions,
                }
            )
            self._rows.append((row, slots))
        rule = {"domain": self.domain, "level": self.level, "goals": goals} if goals else None
        signals: dict[str, list] = {"results": [], "facts": []}
        if self.raises:
            for choice in data.get("results") or []:
                slug, scale, band = choice.split("|", 2)
                signal = {"instrument": slug, "scale": scale}
                if band == "!critical":
                    signal["critical"] = True
                else:
                    signal["band_at_least"] = band
                signals["results"].append({**signal, "domain": self.domain, "level": self.level})
            for fact in FACT_LABELS:
                values = data.get(f"fact_{fact}") or []
                if values:
                    signals["facts"].append(
                        {"fact": fact, "values": values, "domain": self.domain, "level": self.level}
                    )
        return rule, signals

    def place_errors(self, errors: list[dict], rule_index: int | None) -> None:
        """Put each schema error beside its field (in plain words), the rest above the form."""
        for error in errors:
            loc = list(error["loc"])
            field = None
            if rule_index is not None and loc[:2] == ["rules", rule_index] and len(loc) > 3:
                row, slots = self._rows[loc[3]]
                rest = [str(part) for part in loc[4:]]
                if rest[:1] == ["interventions"] and len(rest) > 1:
                    slot = slots[int(rest[1])]
                    names = [n for n in rest[2:] if n in ALL_PARAMS]
                    field = f"g{row}_i{slot}_{names[-1] if names else 'kind'}"
                elif rest[:1] in (["title"], ["target"]):
                    field = f"g{row}_{rest[0]}_{'en' if rest[-1] == 'en' else 'zh'}"
                elif rest[:1] == ["due_in_days"]:
                    field = f"g{row}_due_in_days"
                else:  # the goal's own check: a measurable target
                    field = f"g{row}_target_zh"
            message = plain_error(error)
            if field in self.fields:
                self.add_error(field, message)
            else:
                self.add_error(None, message)


class RestoreRulesForm(forms.Form):
    note = forms.CharField(label=_("Why go back to this version?"), max_length=150)


def _number(label, low: int, high: int, help_text="") -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=low, max_value=high, required=False, help_text=help_text
    )


class ThresholdsForm(forms.Form):
    """The numbers of the rule set that are not per need area and level: how low participation
    and quiz accuracy raise a need (``plans.schema.ParticipationSignal``, ``QuizSignal``) and how
    the levels add up to a support intensity (``IntensityDef``). ``thresholds()`` gives what
    ``plans.rules.with_thresholds`` takes; the orders the schema insists on are checked here,
    beside the fields, in the reader's language."""

    participation_on = forms.BooleanField(
        label=_("Low participation raises a need"), required=False
    )
    participation_domain = forms.ChoiceField(label=_("Need area"), choices=Domain.choices)
    participation_months = _number(_("Over the last (months)"), 1, 12)
    participation_moderate_below = _number(
        _("“Moderate” below (percent of the monthly quota)"), 1, 100
    )
    participation_high_below = _number(_("“High” below (percent of the monthly quota)"), 0, 100)
    quiz_on = forms.BooleanField(label=_("Low quiz accuracy raises a need"), required=False)
    quiz_domain = forms.ChoiceField(label=_("Need area"), choices=Domain.choices)
    quiz_min_questions = _number(_("Once this many questions are answered"), 1, 1000)
    quiz_moderate_below = _number(_("“Moderate” below (% answered right)"), 1, 100)
    quiz_high_below = _number(_("“High” below (% answered right)"), 0, 100)
    intensity_moderate_weight = _number(_("Weight of a “moderate” need area"), 0, 10)
    intensity_high_weight = _number(_("Weight of a “high” need area"), 0, 10)
    intensity_medium_at = _number(_("Medium support intensity from a total of"), 1, 100)
    intensity_high_at = _number(_("High support intensity from a total of"), 1, 100)
    note = forms.CharField(
        label=_("What changed and why"),
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
    )

    SIGNALS = {
        "participation": ("domain", "months", "moderate_below", "high_below"),
        "quiz": ("domain", "min_questions", "moderate_below", "high_below"),
    }
    INTENSITY = ("moderate_weight", "high_weight", "medium_at", "high_at")

    def __init__(self, *args, rules=None, **kwargs):
        super().__init__(*args, **kwargs)
        if rules is None or self.is_bound:
            return
        for kind, names in self.SIGNALS.items():
            signal = getattr(rules.signals, kind)
            self.initial[f"{kind}_on"] = signal is not None
            defaults = {"domain": Domain.LEGAL, "months": 3, "min_questions": 5}
            for name in names:
                value = getattr(signal, name) if signal is not None else defaults.get(name)
                self.initial[f"{kind}_{name}"] = value
        for name in self.INTENSITY:
            self.initial[f"intensity_{name}"] = getattr(rules.intensity, name)

    def groups(self) -> list[tuple[str, list]]:
        return [
            (
                _("Participation"),
                [self[f"participation_{n}"] for n in ("on", *self.SIGNALS["participation"])],
            ),
            (_("Quiz accuracy"), [self[f"quiz_{n}"] for n in ("on", *self.SIGNALS["quiz"])]),
            (_("Support intensity"), [self[f"intensity_{n}"] for n in self.INTENSITY]),
        ]

    def clean(self):
        data = super().clean()
        required = [f"intensity_{n}" for n in self.INTENSITY]
        for kind, names in self.SIGNALS.items():
            if data.get(f"{kind}_on"):
                required += [f"{kind}_{n}" for n in names]
        for name in required:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, _("Please enter a number."))
        for kind in self.SIGNALS:
            moderate, high = data.get(f"{kind}_moderate_below"), data.get(f"{kind}_high_below")
            if data.get(f"{kind}_on") and None not in (moderate, high) and high > moderate:
                self.add_error(
                    f"{kind}_high_below",
                    _(
                        "The “high” threshold must not be above the “moderate” one: the lower "
                        "the share, the higher the need."
                    ),
                )
        low, high = data.get("intensity_moderate_weight"), data.get("intensity_high_weight")
        if None not in (low, high) and high < low:
            self.add_error(
                "intensity_high_weight",
                _("A “high” need area must weigh at least as much as a “moderate” one."),
            )
        low, high = data.get("intensity_medium_at"), data.get("intensity_high_at")
        if None not in (low, high) and high < low:
            self.add_error(
                "intensity_high_at",
                _("High support intensity cannot start below medium support intensity."),
            )
        return data

    def thresholds(self) -> dict:
        """``{"participation": {...} | None, "quiz": {...} | None, "intensity": {...}}``."""
        data = self.cleaned_data
        out: dict = {
            kind: {n: data[f"{kind}_{n}"] for n in names} if data.get(f"{kind}_on") else None
            for kind, names in self.SIGNALS.items()
        }
        out["intensity"] = {n: data[f"intensity_{n}"] for n in self.INTENSITY}
        return out
