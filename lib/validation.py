"""Pydantic validation errors in the reader's language and in plain words.

Pydantic's own messages ("Input should be a valid date or datetime, input is too short")
are English and technical; nobody using the site should see one. ``plain_error`` turns one
error (an item of ``ValidationError.errors()``) into a translated sentence by its ``type``;
the caller names the field. A ``value_error`` carries a message the schema wrote itself
(translated where it was raised).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _


def _number(bound: str) -> Callable[[dict], str]:
    def message(ctx: dict) -> str:
        if bound == "ge":
            return _("Enter a number of at least %(n)s.") % {"n": ctx.get("ge")}
        if bound == "gt":
            return _("Enter a number above %(n)s.") % {"n": ctx.get("gt")}
        if bound == "le":
            return _("Enter a number of at most %(n)s.") % {"n": ctx.get("le")}
        return _("Enter a number below %(n)s.") % {"n": ctx.get("lt")}

    return message


def _date(ctx: dict) -> str:
    return _("Enter a date, for example 2027-03-07.")


def _whole_number(ctx: dict) -> str:
    return _("Enter a whole number.")


def _choice(ctx: dict) -> str:
    return _("Choose one of the options offered.")


def _too_long(ctx: dict) -> str:
    return _("Shorten this to at most %(n)s characters.") % {"n": ctx.get("max_length")}


def _empty(ctx: dict) -> str:
    return _("This cannot be empty.")


MESSAGES: Mapping[str, Callable[[dict], str]] = {
    "missing": lambda ctx: _("This is required."),
    "date_parsing": _date,
    "date_type": _date,
    "date_from_datetime_parsing": _date,
    "date_from_datetime_inexact": _date,
    "datetime_parsing": lambda ctx: _("Enter a date and time, for example 2027-03-07 10:00."),
    "datetime_type": lambda ctx: _("Enter a date and time, for example 2027-03-07 10:00."),
    "time_parsing": lambda ctx: _("Enter a time, for example 10:00."),
    "int_parsing": _whole_number,
    "int_type": _whole_number,
    "int_from_float": _whole_number,
    "bool_parsing": lambda ctx: _("Answer yes or no."),
    "greater_than_equal": _number("ge"),
    "greater_than": _number("gt"),
    "less_than_equal": _number("le"),
    "less_than": _number("lt"),
    "string_too_long": _too_long,
    "too_long": lambda ctx: _("Give at most %(n)s entries.") % {"n": ctx.get("max_length")},
    "string_too_short": _empty,
    "too_short": lambda ctx: _("Give at least %(n)s entries.") % {"n": ctx.get("min_length")},
    "string_type": lambda ctx: _("Enter text."),
    "string_pattern_mismatch": lambda ctx: _(
        "Use lower-case letters, digits, “-” and “_” only, starting with a letter."
    ),
    "literal_error": _choice,
    "enum": _choice,
    "union_tag_invalid": _choice,
    "union_tag_not_found": lambda ctx: _("Choose a kind."),
    "extra_forbidden": lambda ctx: _("This is not a field that can be set here."),
    "dict_type": lambda ctx: _("This value has the wrong shape."),
    "list_type": lambda ctx: _("This value has the wrong shape."),
    "model_type": lambda ctx: _("This value has the wrong shape."),
}


def plain_error(error: Mapping[str, Any]) -> str:
    """One pydantic error as a translated sentence (without the field's name)."""
    kind = error.get("type", "")
    ctx = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    message = MESSAGES.get(kind)
    if message is None:
        return _("This value is not valid.")
    return message(ctx)


def plain_errors(errors, labels: Mapping[str, str] | None = None) -> list[str]:
    """Each error as “field: sentence”, the field named by the last text part of its location
    looked up in ``labels`` (else the location as it is)."""
    labels = labels or {}
    lines = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        names = [part for part in loc if not part.isdigit()]
        name = names[-1] if names else ""
        label = labels.get(name, ".".join(loc))
        text = plain_error(error)
        if label:
            text = _("%(field)s: %(problem)s") % {"field": label, "problem": text}
        lines.append(text)
    return lines
