"""Staff forms: a lecture (Wagtail admin), an attendance override, an attendance policy."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from lib.widgets import DateTimeInput
from live.attendance import MAX_MINUTES, PolicyRules
from live.models import AttendancePolicy, AttendanceStatus, AudienceCategory, Lecture
from live.services import current_policy
from people.models import Office, Person
from people.roles import Role, roles_of

AUDIENCE_FIELDS = ("audience_offices", "audience_categories", "audience_persons")


class LectureForm(WagtailAdminModelForm):
    """A lecturer plans their own lectures (the lecturer is themselves); an administrator
    picks the lecturer. Named persons can be chosen only from the persons the user sees,
    so lecturers (who see none) address offices and categories. Once the lecture has
    started its audience is fixed and no longer editable."""

    class Meta:
        model = Lecture
        fields = [
            "title",
            "topic",
            "description",
            "lecturer",
            "lecturer_title",
            "lecturer_name",
            "start",
            "end",
            "mode",
            "location",
            "recording_url",
            "audience_offices",
            "audience_categories",
            "audience_persons",
            "required",
        ]
        # Staff cannot act on a setting's name: the setting (CSP_MEDIA_SRC) is in
        # docs/security.md for the technical staff.
        help_texts = {
            "recording_url": _(
                "A video file on this site (a path such as /documents/12/lecture.mp4), or an "
                "https address on a video site the technical staff have allowed. Ask them to "
                "allow a new one."
            ),
        }
        widgets = {
            "start": DateTimeInput(),
            "end": DateTimeInput(),
            "audience_offices": forms.CheckboxSelectMultiple,
            "audience_categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        roles = roles_of(user) if user is not None else frozenset()
        picks_lecturer = user is not None and (user.is_superuser or Role.ADMINISTRATOR in roles)
        if picks_lecturer:
            self.fields["lecturer"].queryset = (
                get_user_model()
                .objects.filter(is_active=True, groups__name=Role.LECTURER)
                .order_by("name", "username")
            )
        else:
            del self.fields["lecturer"]
            if self.instance.pk is None and user is not None:
                self.instance.lecturer = user
        self.fields["audience_offices"].queryset = Office.objects.all()
        self.fields["audience_categories"].queryset = AudienceCategory.objects.all()
        persons = Person.objects.active().visible_to(user).select_related("office")
        if self.instance.pk is not None:
            persons = persons | Person.objects.filter(
                pk__in=self.instance.audience_persons.values("pk")
            )
        if user is not None and not persons.exists():
            del self.fields["audience_persons"]
        else:
            self.fields["audience_persons"].queryset = persons.distinct()
        if self.instance.pk is None and user is not None:
            self.instance.created_by = user
        if self.instance.audience_resolved_at is not None:
            for name in AUDIENCE_FIELDS:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _(
                        "The audience was fixed when the lecture started."
                    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The lecture must end after it starts."))
        if self.instance.audience_resolved_at is None and not any(
            cleaned.get(name) for name in AUDIENCE_FIELDS
        ):
            raise ValidationError(
                _("Choose the audience: offices, supervision categories or named persons.")
            )
        return cleaned


class OverrideForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("As computed"))] + list(AttendanceStatus.choices),
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _percent_field(label, help_text):
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
    )


def _minutes_field(label, help_text):
    return forms.IntegerField(label=label, help_text=help_text, min_value=0, max_value=MAX_MINUTES)


class AttendancePolicyForm(WagtailAdminModelForm):
    """The four rules of ``live.attendance.PolicyRules`` in plain fields; saving always
    makes a new version (``live.services.do_create_policy_version``)."""

    presence_percent = _percent_field(
        _("Share of the lecture to be present (%)"),
        _("Below this share a person is absent or has left early."),
    )
    late_after_minutes = _minutes_field(
        _("Late after (minutes)"), _("Joining more than this after the start counts as late.")
    )
    left_early_before_minutes = _minutes_field(
        _("Left early before the end (minutes)"),
        _("Leaving more than this before the end, without enough time, counts as left early."),
    )
    checks_percent = _percent_field(
        _("Presence checks to be answered (%)"),
        _("Share of the lecturer's presence checks a person must answer."),
    )

    class Meta:
        model = AttendancePolicy
        fields = ["note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = self.instance.rules if self.instance.pk else None
        if not rules:
            rules = current_policy().rules
        try:
            current = PolicyRules.from_dict(rules)
        except ValueError:
            current = PolicyRules()
        self.initial.setdefault("presence_percent", Decimal(str(current.min_presence_ratio * 100)))
        self.initial.setdefault("late_after_minutes", current.late_after_minutes)
        self.initial.setdefault("left_early_before_minutes", current.left_early_before_minutes)
        self.initial.setdefault("checks_percent", Decimal(str(current.min_checks_ratio * 100)))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        rules = {
            "min_presence_ratio": float(cleaned["presence_percent"] / 100),
            "late_after_minutes": cleaned["late_after_minutes"],
            "left_early_before_minutes": cleaned["left_early_before_minutes"],
            "min_checks_ratio": float(cleaned["checks_percent"] / 100),
        }
        try:
            cleaned["rules"] = PolicyRules.from_dict(rules).to_dict()
        except ValueError as error:
            raise ValidationError(str(error)) from error
        return cleaned
