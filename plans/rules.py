"""Reading, checking and saving plan rule sets (``plans.schema.PlanRulesDef``)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from pydantic import ValidationError

from assessments.models import InstrumentVersion
from assessments.services import instrument_files, read_instrument_file
from plans.models import PlanRuleSet
from plans.schema import PlanRulesDef

RULES_DIR = Path(__file__).resolve().parent / "rules"
DEFAULT_RULES = RULES_DIR / "default_v1.json"


class RuleSetError(Exception):
    """Rules that do not match the schema or name unknown instruments or bands; ``problems``
    lists each one with its location."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
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


def check_rules(data: object, catalog: dict | None = None) -> PlanRulesDef:
    """Validate ``data`` (parsed JSON) against the schema and the instrument library."""
    catalog = instrument_catalog() if catalog is None else catalog
    try:
        return PlanRulesDef.model_validate(data, context={"instruments": catalog})
    except ValidationError as exc:
        raise RuleSetError(
            [
                f"{'.'.join(str(part) for part in error['loc']) or '(rules)'}: "
                f"{error['msg'].removeprefix('Value error, ')}"
                for error in exc.errors(include_url=False)
            ]
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


def do_save_rule_set(rules: PlanRulesDef, by, note: str = "") -> tuple[PlanRuleSet, str]:
    """Store validated ``rules``; return (row, "unchanged" | "updated" | "created").

    The current version is changed in place only while no plan was drafted with it; once
    used it is immutable and the change becomes the next version."""
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


def read_rules_file(path: Path) -> PlanRulesDef:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetError([f"cannot read {path}: {exc.strerror}"]) from exc
    return parse_rules_text(text)
