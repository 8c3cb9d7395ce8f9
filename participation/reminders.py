"""The follow-up policy in force and the reminder texts administrators edit: their
placeholders, checked when saved, and rendered for one person."""

from __future__ import annotations

from string import Formatter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from participation.models import (
    FollowUpPolicy,
    ReminderKind,
    ReminderTemplate,
)


def current_policy() -> FollowUpPolicy:
    """The newest saved policy, or the defaults (unsaved) when administrators saved none."""
    return FollowUpPolicy.objects.order_by("-updated_at", "-pk").first() or FollowUpPolicy()


TITLE_MAX = 200
BODY_MAX = 2000

PLACEHOLDERS = ("name", "requirement", "days_left", "hours_short", "month")

# English source texts; created in the site's language (Chinese) on first use, then edited
# by administrators in the admin ("Reminder texts").
DEFAULT_TEXTS: dict[str, tuple[str, str]] = {
    ReminderKind.LEARNER_AT_RISK: (
        gettext_noop("A friendly reminder: {month} is not finished yet"),
        gettext_noop(
            "Hello {name}, a friendly reminder: this month you still have {requirement} to "
            "do, and {days_left} days are left. Please find a little time for it soon. If "
            "something is in the way, your case officer is glad to help."
        ),
    ),
    ReminderKind.LEARNER_MISSED: (
        gettext_noop("A friendly reminder about {month}"),
        gettext_noop(
            "Hello {name}, a friendly reminder: {requirement} for {month} was not completed. "
            "Please get in touch with your case officer soon to arrange a makeup or to explain "
            "what happened. We are here to help you."
        ),
    ),
    ReminderKind.OFFICER_TASK: (
        gettext_noop("Please follow up: {name}"),
        gettext_noop(
            "{name} has not yet completed {requirement} for {month}. Please get in touch and "
            "record what you did under “People to follow up”."
        ),
    ),
    ReminderKind.ADMINISTRATOR: (
        gettext_noop("Follow-up overdue: {name}"),
        gettext_noop(
            "{name} has not completed {requirement} for {month}, and the case officer has not "
            "recorded a follow-up in time. Please look into it under “People to follow up”."
        ),
    ),
}


def template_errors(text: str) -> list[str]:
    """Why ``text`` cannot be a reminder text (empty list: it can). Only the named
    placeholders are allowed, with no formatting after them; braces meant as text are
    doubled (``{{``)."""
    try:
        parsed = list(Formatter().parse(text or ""))
    except ValueError:
        return [_("A “{” or “}” has no partner. Write {{ or }} for a brace as text.")]
    unknown, formatted = [], []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            unknown.append("{" + name + "}")
        elif spec or conversion:
            formatted.append("{" + name + "}")
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    errors = []
    if unknown:
        errors.append(
            _("Unknown placeholder %(found)s. You can use: %(allowed)s.")
            % {"found": ", ".join(dict.fromkeys(unknown)), "allowed": allowed}
        )
    if formatted:
        errors.append(
            _("Write placeholders without formatting, like {name}: %(found)s.")
            % {"found": ", ".join(dict.fromkeys(formatted))}
        )
    return errors


def check_template(text: str) -> None:
    """Raise ``ValidationError`` with every reason ``text`` cannot be a reminder text."""
    errors = template_errors(text)
    if errors:
        raise ValidationError(errors)


def reminder_templates() -> dict[str, ReminderTemplate]:
    """Every kind's reminder text, creating the missing ones from the defaults (in the site's
    language) on first use."""
    templates = {t.kind: t for t in ReminderTemplate.objects.all()}
    missing = [kind for kind in ReminderKind.values if kind not in templates]
    if missing:
        with translation.override(settings.LANGUAGE_CODE):
            for kind in missing:
                title, body = DEFAULT_TEXTS[kind]
                try:
                    with transaction.atomic():
                        templates[kind] = ReminderTemplate.objects.create(
                            kind=kind, title=_(title), body=_(body)
                        )
                except IntegrityError:  # created by a concurrent run
                    templates[kind] = ReminderTemplate.objects.get(kind=kind)
    return templates


def render(template: ReminderTemplate, values: dict[str, str]) -> tuple[str, str]:
    """The template's title and text with the placeholders filled in. A text that went bad
    outside the admin's checks falls back to the default text, so a reminder always goes."""
    try:
        title, body = template.title.format_map(values), template.body.format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        default_title, default_body = DEFAULT_TEXTS[template.kind]
        title, body = _(default_title).format_map(values), _(default_body).format_map(values)
    return title.strip()[:TITLE_MAX] or "—", body.strip()[:BODY_MAX]
