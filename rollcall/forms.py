from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from live.models import Lecture
from people.models import Category, Office
from rollcall.models import Confirmation
from rollcall.policy import most_checks
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


WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]
PERIODS = [("week", _("per week")), ("month", _("per month"))]
FAILED_CHOICES = [c for c in Confirmation.choices if c[0] != Confirmation.SEEN]


def _number(label, help_text, low, high):
    return forms.IntegerField(label=label, help_text=help_text, min_value=low, max_value=high)


class PolicyForm(forms.Form):
    """The roll-call rules as typed fields; ``rules()`` gives the JSON the policy stores.

    The cross-field checks (late after in time, working hours in order, each category's count
    fits its period with the gap between checks) say in the reader's language what is wrong,
    beside the field; ``rollcall.policy`` validates the result again on save."""

    answer_within_minutes = _number(
        _("Answer within (minutes)"),
        _("Joining within this many minutes of the ring is in time."),
        1,
        60,
    )
    late_within_minutes = _number(
        _("Late until (minutes)"),
        _(
            "Joining after that and within this many minutes is late; the room then closes "
            "and a call without a join is missed."
        ),
        1,
        240,
    )
    sms_after_seconds = _number(
        _("Text message after (seconds)"),
        _(
            "A call still ringing this many seconds after it rang gets a text message with "
            "the link."
        ),
        0,
        3600,
    )
    escalate_after_hours = _number(
        _("Escalate after (hours)"),
        _(
            "A missed call's follow-up task goes to the administrators when nobody acted on it "
            "within this many hours."
        ),
        1,
        24 * 14,
    )
    failed_confirmations = forms.TypedMultipleChoiceField(
        label=_("Confirmations that count as missed"),
        help_text=_(
            "When you record one of these after seeing the video, the call counts as missed."
        ),
        choices=FAILED_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    min_gap_hours = _number(
        _("Hours between two spot checks (at least)"),
        _("Two spot checks of the same person are never closer than this."),
        0,
        24 * 7,
    )
    work_start_hour = _number(
        _("Working hours start (hour, 0–23)"),
        _("Spot checks ring only inside working hours."),
        0,
        23,
    )
    work_end_hour = _number(
        _("Working hours end (hour, 0–23)"),
        _("The last spot check rings before this hour."),
        0,
        23,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one working day.")},
    )
    note = forms.CharField(
        label=_("What changed"),
        help_text=_("A few words for whoever reads the versions later."),
        max_length=200,
        error_messages={"required": _("Say in a few words what changed; nothing was saved.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in Category.choices:
            self.fields[f"spot_{key}_count"] = forms.IntegerField(
                label=_("Spot checks for %(category)s: how many") % {"category": label},
                help_text=_("0 draws none for this category."),
                min_value=0,
                max_value=10,
            )
            self.fields[f"spot_{key}_per"] = forms.ChoiceField(
                label=_("Spot checks for %(category)s: per") % {"category": label},
                choices=PERIODS,
            )

    @staticmethod
    def initial_from(rules: dict) -> dict:
        hours = rules["working_hours"]
        initial = {
            key: rules[key]
            for key in (
                "answer_within_minutes",
                "late_within_minutes",
                "sms_after_seconds",
                "escalate_after_hours",
                "failed_confirmations",
                "min_gap_hours",
            )
        }
        initial["work_start_hour"] = int(str(hours["start"])[:2])
        initial["work_end_hour"] = int(str(hours["end"])[:2])
        initial["weekdays"] = list(hours["weekdays"])
        for key, rule in rules["spot_checks"].items():
            initial[f"spot_{key}_count"] = rule["count"]
            initial[f"spot_{key}_per"] = rule["per"]
        return initial

    def category_fields(self):
        """(category label, count field, per field) for the template, one row each."""
        return [
            (label, self[f"spot_{key}_count"], self[f"spot_{key}_per"])
            for key, label in Category.choices
        ]

    def clean(self):
        data = super().clean()
        answer, late = data.get("answer_within_minutes"), data.get("late_within_minutes")
        if answer is not None and late is not None and late < answer:
            self.add_error(
                "late_within_minutes",
                _("Late must end at or after the answer window (%(n)d minutes).") % {"n": answer},
            )
        start, end = data.get("work_start_hour"), data.get("work_end_hour")
        if start is not None and end is not None and end <= start:
            self.add_error("work_end_hour", _("Working hours must end after they start."))
            return data
        gap, days = data.get("min_gap_hours"), data.get("weekdays")
        if None in (start, end, gap) or not days:
            return data
        for key, label in Category.choices:
            count, per = data.get(f"spot_{key}_count"), data.get(f"spot_{key}_per")
            if count is None or per is None:
                continue
            most = most_checks(
                per,
                start_minute=start * 60,
                end_minute=end * 60,
                weekdays=tuple(days),
                gap_hours=gap,
            )
            if count > most:
                self.add_error(
                    f"spot_{key}_count",
                    _(
                        "%(count)d spot checks do not fit one %(period)s for %(category)s: "
                        "with these working hours and %(gap)d hours between checks, at most "
                        "%(most)d fit."
                    )
                    % {
                        "count": count,
                        "period": pgettext("spot-check period", "week")
                        if per == "week"
                        else pgettext("spot-check period", "month"),
                        "category": label,
                        "gap": gap,
                        "most": most,
                    },
                )
        return data

    def rules(self) -> dict:
        data = self.cleaned_data
        return {
            "answer_within_minutes": data["answer_within_minutes"],
            "late_within_minutes": data["late_within_minutes"],
            "sms_after_seconds": data["sms_after_seconds"],
            "failed_confirmations": [
                c for c, _label in FAILED_CHOICES if c in data["failed_confirmations"]
            ],
            "escalate_after_hours": data["escalate_after_hours"],
            "min_gap_hours": data["min_gap_hours"],
            "working_hours": {
                "start": f"{data['work_start_hour']:02d}:00:00",
                "end": f"{data['work_end_hour']:02d}:00:00",
                "weekdays": sorted(data["weekdays"]),
            },
            "spot_checks": {
                key: {"count": data[f"spot_{key}_count"], "per": data[f"spot_{key}_per"]}
                for key, _label in Category.choices
            },
        }


class RestoreForm(forms.Form):
    note = forms.CharField(label=_("What changed and why"), max_length=150)
