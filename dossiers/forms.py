"""The catalogue's forms: one section (titles, the rule in plain words and its parameters),
one round (titles, who decides it, in which scope), and the change note every save needs."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dossiers.rules import REASONS, RULE_LABELS, RULE_PARAMS, RULES, PlanParams
from dossiers.schema import RoundDef, SectionDef
from people.roles import Role

SCOPE_LABELS = {
    "case_officer": _("The person's own case officer"),
    "office": _("A case officer of the person's justice office"),
    "bureau": _("Staff of the person's office or an office above it"),
}
ROUND_ROLES = (Role.OFFICER, Role.ADMINISTRATOR)

_PLAN_DEFAULTS = PlanParams()


def _note_field() -> forms.CharField:
    return forms.CharField(
        label=_("What changed and why"),
        max_length=200,
        help_text=_("Kept with the new version, so later readers know why it changed."),
        error_messages={"required": _("Say in a few words what changed.")},
    )


class _TitlesForm(forms.Form):
    title_zh = forms.CharField(label=_("Title in Chinese"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200)


class SectionForm(_TitlesForm):
    rule = forms.ChoiceField(
        label=_("When is this section complete?"),
        choices=[(key, RULE_LABELS[key]) for key in RULES],
    )
    reasons = forms.MultipleChoiceField(
        label=_("Questionnaires that must be submitted and reviewed"),
        choices=list(REASONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(
        label=_("Days after intake by which a plan must be approved"),
        min_value=1,
        max_value=366,
        required=False,
        initial=_PLAN_DEFAULTS.days,
    )
    grace_days = forms.IntegerField(
        label=_("Days a plan review may be held after its date"),
        min_value=0,
        max_value=90,
        required=False,
        initial=_PLAN_DEFAULTS.grace_days,
    )
    note = _note_field()

    PARAM_FIELDS = ("reasons", "days", "grace_days")

    @classmethod
    def initial_for(cls, section: SectionDef) -> dict:
        return {
            "title_zh": section.title_zh,
            "title_en": section.title_en,
            "rule": section.rule,
            **section.params,
        }

    def clean(self):
        data = super().clean()
        rule = data.get("rule")
        if rule is None:
            return data
        params: dict = {}
        for name in RULE_PARAMS.get(rule, ()):
            value = data.get(name)
            if name == "reasons":
                if not value:
                    self.add_error(name, _("Choose at least one questionnaire."))
                    continue
                # In the order the choices are listed.
                value = [key for key in REASONS if key in value]
            elif value is None:
                value = getattr(_PLAN_DEFAULTS, name)
            params[name] = value
        data["params"] = params
        return data

    def section(self) -> dict:
        data = self.cleaned_data
        return {
            "title_zh": data["title_zh"].strip(),
            "title_en": data["title_en"].strip(),
            "rule": data["rule"],
            "params": data["params"],
        }


class RoundForm(_TitlesForm):
    role = forms.ChoiceField(
        label=_("Who decides this round"), choices=[(r.value, r.label) for r in ROUND_ROLES]
    )
    scope = forms.ChoiceField(label=_("For which persons"), choices=list(SCOPE_LABELS.items()))
    note = _note_field()

    @classmethod
    def initial_for(cls, round_def: RoundDef) -> dict:
        return {
            "title_zh": round_def.title_zh,
            "title_en": round_def.title_en,
            "role": round_def.role,
            "scope": round_def.scope,
        }

    def clean(self):
        data = super().clean()
        if data.get("scope") == "case_officer" and data.get("role") != Role.OFFICER:
            self.add_error("role", _("Only a case officer can be the person's own case officer."))
        return data

    def round(self) -> dict:
        data = self.cleaned_data
        return {
            "title_zh": data["title_zh"].strip(),
            "title_en": data["title_en"].strip(),
            "role": data["role"],
            "scope": data["scope"],
        }


class NoteForm(forms.Form):
    note = _note_field()
