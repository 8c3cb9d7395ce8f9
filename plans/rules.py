"""Reading, checking and saving plan rule sets (``plans.schema.PlanRulesDef``)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import ValidationError

from assessments.models import InstrumentVersion
from assessments.services import instrument_files, read_instrument_file
from plans.models import PlanRuleSet
from plans.schema import Domain, Level, PlanRulesDef

RULES_DIR = Path(__file__).resolve().parent / "rules"
DEFAULT_RULES = RULES_DIR / "default_v1.json"


class RuleSetError(Exception):
    """Rules that do not match the schema or name unknown instruments or bands; ``problems``
    lists each one with its location."""

    def __init__(self, problems: list[str], errors: list[dict] | None = None) -> None:
        self.problems = problems
        self.errors = errors or []  # pydantic's, for a form that places them by field
        super().__init__("; ".join(problems))


class RuleSetMissing(Exception):
    """No plan rule set has been loaded (``python manage.py load_plan_rules``)."""


def _bands(definition) -> dict[str, list[str]]:
    return {
        scale.code: [band.code for band in sorted(scale.bands, key=lambda band: band.low)]
        for scale in definition.scales
    }


def instrument_catalog() -> dict[str, dict[str, list[str]]]:
    """{slug: {scale: [band codes, lowest first]}} over the shipped instrument files and every
    published version in the database (a band known to any version counts)."""
    catalog: dict[str, dict[str, list[str]]] = {}

    def add(definition) -> None:
        scales = catalog.setdefault(definition.slug, {})
        for code, bands in _bands(definition).items():
            known = scales.setdefault(code, [])
            known.extend(band for band in bands if band not in known)

    for path in instrument_files():
        add(read_instrument_file(path))
    for version in InstrumentVersion.objects.published().select_related("instrument"):
        add(version.as_definition())
    return catalog


def signal_options(language: str | None) -> list[tuple[str, str]]:
    """The results a signal can name, as (``slug|scale|band`` or ``slug|scale|!critical``,
    label in ``language``), from the shipped instrument files."""
    options = []
    for path in instrument_files():
        definition = read_instrument_file(path)
        title = definition.title.for_language(language)
        critical = _("%(title)s: a critical item") % {"title": title}
        options.append((f"{definition.slug}|total|!critical", critical))
        for scale in definition.scales:
            for band in sorted(scale.bands, key=lambda band: band.low)[1:]:
                options.append(
                    (
                        f"{definition.slug}|{scale.code}|{band.code}",
                        _("%(title)s, %(scale)s: “%(band)s” or above")
                        % {
                            "title": title,
                            "scale": scale.label.for_language(language),
                            "band": band.label.for_language(language),
                        },
                    )
                )
    return options


def check_rules(data: object, catalog: dict | None = None) -> PlanRulesDef:
    """Validate ``data`` (parsed JSON) against the schema and the instrument library."""
    catalog = instrument_catalog() if catalog is None else catalog
    try:
        return PlanRulesDef.model_validate(data, context={"instruments": catalog})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RuleSetError(
            [
                f"{'.'.join(str(part) for part in error['loc']) or '(rules)'}: "
                f"{error['msg'].removeprefix('Value error, ')}"
                for error in errors
            ],
            errors=errors,
        ) from exc


def parse_rules_text(text: str) -> PlanRulesDef:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RuleSetError([f"not valid JSON: {exc}"]) from exc
    return check_rules(data)


def canonical(rules: PlanRulesDef) -> dict:
    return rules.model_dump(mode="json", by_alias=True, exclude_none=True)


def current_rule_set() -> tuple[PlanRuleSet, PlanRulesDef]:
    """The rule set in use (the highest version), parsed. Raises RuleSetMissing."""
    row = PlanRuleSet.objects.current()
    if row is None:
        raise RuleSetMissing("no plan rule set is loaded; run `manage.py load_plan_rules`")
    return row, PlanRulesDef.model_validate(row.rules)


def check_rule_set_change(rules: PlanRulesDef, note: str) -> str:
    """A saved rule set has at least one rule and says what changed; returns the note."""
    problems = []
    if not rules.rules:
        problems.append(
            _("A rule set without any rule would give every plan no goals: keep at least one rule.")
        )
    note = (note or "").strip()
    if not note:
        problems.append(_("Say in a few words what changed and why."))
    if problems:
        raise RuleSetError(problems)
    return note


def do_save_rule_set(rules: PlanRulesDef, by, note: str) -> tuple[PlanRuleSet, str]:
    """Store validated ``rules``; return (row, "unchanged" | "updated" | "created").

    Refused (RuleSetError) without a rule or without a note. The current version is changed
    in place only while no plan was drafted with it; once used it is immutable and the change
    becomes the next version."""
    note = check_rule_set_change(rules, note)
    data = canonical(rules)
    with transaction.atomic():
        current = PlanRuleSet.objects.select_for_update().order_by("-version").first()
        if current is not None and canonical(PlanRulesDef.model_validate(current.rules)) == data:
            return current, "unchanged"
        if current is not None and not current.is_used:
            current.rules = data
            current.note = note[:200]
            current.created_by = by
            current.save(update_fields=["rules", "note", "created_by"])
            return current, "updated"
        version = 1 if current is None else current.version + 1
        row = PlanRuleSet.objects.create(
            version=version, rules=data, note=note[:200], created_by=by
        )
        return row, "created"


def do_restore_rule_set(earlier: PlanRuleSet, by, note: str) -> tuple[PlanRuleSet, str]:
    """Make the rules of ``earlier`` current again: a new version with its rules (earlier
    versions are never changed, so the history stays as it was). Returns what
    ``do_save_rule_set`` returns; refused the same way."""
    rules = PlanRulesDef.model_validate(earlier.rules)
    note = check_rule_set_change(rules, note)
    with transaction.atomic():
        current = PlanRuleSet.objects.select_for_update().order_by("-version").first()
        if canonical(PlanRulesDef.model_validate(current.rules)) == canonical(rules):
            return current, "unchanged"
        text = _("Version %(v)s made current again: %(note)s") % {
            "v": earlier.version,
            "note": note,
        }
        row = PlanRuleSet.objects.create(
            version=current.version + 1, rules=canonical(rules), note=text[:200], created_by=by
        )
        return row, "created"


def with_rule(
    rules: PlanRulesDef, domain: str, level: str, rule: dict | None, signals: dict
) -> dict:
    """``rules`` as data with the rule for (``domain``, ``level``) replaced by ``rule`` (none:
    removed) and the result and fact signals raising ``domain`` to ``level`` replaced by
    ``signals`` (``{"results": [...], "facts": [...]}``); validate it with ``check_rules``."""
    data = canonical(rules)
    data["rules"] = [r for r in data["rules"] if (r["domain"], r["level"]) != (domain, level)]
    if rule is not None:
        data["rules"].append(rule)
        order = {(d, lv): n for n, (d, lv) in enumerate(_cells())}
        data["rules"].sort(key=lambda r: order.get((r["domain"], r["level"]), len(order)))
    for kind in ("results", "facts"):
        kept = [
            s for s in data["signals"].get(kind, []) if (s["domain"], s["level"]) != (domain, level)
        ]
        data["signals"][kind] = kept + list(signals.get(kind, []))
    return data


def with_thresholds(
    rules: PlanRulesDef, participation: dict | None, quiz: dict | None, intensity: dict
) -> dict:
    """``rules`` as data with the participation and quiz signals (none: not used) and the
    support intensity replaced; validate it with ``check_rules``."""
    data = canonical(rules)
    for kind, signal in (("participation", participation), ("quiz", quiz)):
        if signal is None:
            data["signals"].pop(kind, None)
        else:
            data["signals"][kind] = signal
    data["intensity"] = intensity
    return data


def _cells() -> list[tuple[str, str]]:
    return [(domain, level) for domain in Domain.values for level in Level.values]


def read_rules_file(path: Path) -> PlanRulesDef:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetError([f"cannot read {path}: {exc.strerror}"]) from exc
    return parse_rules_text(text)
