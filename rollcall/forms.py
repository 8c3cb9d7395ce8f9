from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from live.models import Lecture
from people.models import Category, Office
from rollcall.models import Confirmation
from rollcall.services import NOTE_MAX


class GroupCallForm(forms.Form):
    """Who a group call rings: exactly one of an office, a category, a lecture's audience."""

    office = forms.ModelChoiceField(
        label=_("Office"), queryset=Office.objects.none(), required=False
    )
    category = forms.ChoiceField(
        label=_("Management category"),
        choices=[("", "—"), *Category.choices],
        required=False,
    )
    lecture = forms.ModelChoiceField(
        label=_("Audience of a lecture"), queryset=Lecture.objects.none(), required=False
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = Office.objects.visible_to(user).order_by("path")
        self.fields["lecture"].queryset = Lecture.objects.visible_to(user).order_by("-start")[:200]

    def clean(self):
        data = super().clean()
        chosen = [k for k in ("office", "category", "lecture") if data.get(k)]
        if len(chosen) != 1:
            raise forms.ValidationError(
                _("Choose exactly one: an office, a management category or a lecture.")
            )
        return data


class SpotNowForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Management category"),
        choices=[("", _("Any")), *Category.choices],
        required=False,
    )
    count = forms.IntegerField(label=_("How many persons"), min_value=1, max_value=20, initial=1)


class ConfirmForm(forms.Form):
    confirmation = forms.ChoiceField(
        label=_("What did you see?"), choices=Confirmation.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExcuseForm(forms.Form):
    note = forms.CharField(
        label=_("Why is it excused?"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class PolicyForm(forms.Form):
    rules = forms.CharField(
        label=_("The rules, as JSON"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "monospace", "translate": "no"}),
    )
    note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    def clean_rules(self):
        try:
            return json.loads(self.cleaned_data["rules"])
        except ValueError:
            raise forms.ValidationError(_("The rules are not valid JSON.")) from None
