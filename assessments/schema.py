"""The instrument file format, validated with pydantic (unknown fields are errors).

An instrument file (``assessments/instruments/<slug>.json``) describes one version of a
screening questionnaire: its items and options (in the order of the published form), how
each option is scored, the scales computed from the items, severity bands per scale and
the critical-item rules. Expressions are described in ``assessments/expressions.py``.

Scoring rules, in short:
- an answer is the 0-based index of the chosen option; the item's scored value is
  ``options[i].value``, or ``options[n - 1 - i].value`` when ``reverse_keyed``, or
  ``values[i]`` when the item carries an explicit ``values`` list;
- ``sum``/``mean``/``count_gte``/``sum_gte`` scales aggregate the scored values of their items;
  a scale is missing when fewer than ``min_answered`` of its items (default: all) are answered;
- ``derived`` scales evaluate ``expression`` over the *scores* of other scales;
- ``transform`` turns a scale's raw value into its score (``floor(raw * 1.25)``);
- bands are inclusive ``[low, high]`` ranges on the score (``high: null`` = open);
- critical rules compare the chosen option index (``option``/``options``) or the item's scored
  value (``value``).

Skip logic (``show_if`` on an item, see ``assessments/skips.py``):
- ``show_if`` is an expression over the scored values ``q1``, ``q2``, ... of *earlier* items
  (same grammar as ``transform``); the item is shown unless it evaluates to 0. A condition
  that reads an unanswered item is unknown, and an unknown condition shows the item;
- a skipped item scores ``skipped_value`` (required with ``show_if``, and one of the item's
  scored values, so totals stay in the published range);
- a response with every item answered is scored as given, conditions ignored (the paper
  self-report form, where nobody skips); otherwise skipped items take ``skipped_value`` whatever
  was stored for them, and a shown item left empty counts as unanswered.

``notes`` is documentation for the people who maintain the file (why the critical rules and
the scoring are what they are, with sources). It never changes a score, so it is left out of
the checksum: rewording a note needs no new version.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Literal

from django.db import models
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from assessments.expressions import RESERVED_NAMES, Expression

Number = int | float
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class InstrumentKind(models.TextChoices):
    # Screening only: these instruments never produce a diagnosis.
    SCREENING = "screening", _("Screening")


class LicenceClass(models.TextChoices):
    PUBLIC_DOMAIN = "public-domain", _("Public domain")
    FREE_TO_USE = "free-to-use", _("Free to use")
    FREE_WITH_ATTRIBUTION = "free-with-attribution", _("Free with attribution")
    FREE_NONCOMMERCIAL = "free-noncommercial", _("Free for non-commercial use")
    RESTRICTED = "restricted", _("Restricted (licence required)")


class ScaleMethod(models.TextChoices):
    SUM = "sum", _("Sum")
    MEAN = "mean", _("Mean")
    COUNT_GTE = "count_gte", _("Count of items at or above a threshold")
    SUM_GTE = "sum_gte", _("Sum of items at or above a threshold")
    DERIVED = "derived", _("Derived from other scales")


THRESHOLD_METHODS = frozenset({ScaleMethod.COUNT_GTE, ScaleMethod.SUM_GTE})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LocalText(_Strict):
    zh_hans: str = Field(alias="zh-hans", min_length=1)
    en: str = Field(min_length=1)

    def for_language(self, language: str | None) -> str:
        return self.en if (language or "").startswith("en") else self.zh_hans


class Option(_Strict):
    label: LocalText
    value: Number


class Item(_Strict):
    number: Annotated[int, Field(ge=1)]
    text: LocalText
    options: Annotated[list[Option], Field(min_length=2)]
    reverse_keyed: bool = False
    # Explicit scored value per option index, for items whose keying is not a reversal.
    values: list[Number] | None = None
    show_if: str | None = None
    skipped_value: Number | None = None

    _scored: tuple[Number, ...] = PrivateAttr(default=())
    _show_if: Expression | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_keying(self) -> Item:
        if self.values is not None:
            if self.reverse_keyed:
                raise ValueError(f"item {self.number}: use either reverse_keyed or values")
            if len(self.values) != len(self.options):
                raise ValueError(
                    f"item {self.number}: values has {len(self.values)} entries "
                    f"for {len(self.options)} options"
                )
        if self.values is not None:
            self._scored = tuple(self.values)
        else:
            forward = tuple(option.value for option in self.options)
            self._scored = forward[::-1] if self.reverse_keyed else forward
        if (self.show_if is None) != (self.skipped_value is None):
            raise ValueError(f"item {self.number}: show_if and skipped_value go together")
        if self.show_if is not None:
            earlier = {f"q{number}" for number in range(1, self.number)}
            try:
                self._show_if = Expression(self.show_if, earlier)
            except ValueError as exc:
                raise ValueError(
                    f"item {self.number}: show_if may read only earlier items' values: {exc}"
                ) from None
            if self.skipped_value not in self._scored:
                raise ValueError(
                    f"item {self.number}: skipped_value {self.skipped_value} is not one of "
                    f"the item's scored values {list(self._scored)}"
                )
        return self

    @property
    def show_if_expression(self) -> Expression | None:
        return self._show_if

    @property
    def scored_values(self) -> tuple[Number, ...]:
        """Scored value of each option index, keying applied."""
        return self._scored


class Band(_Strict):
    low: Number
    high: Number | None = None
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    label: LocalText
    severity: Annotated[int, Field(ge=0, le=4)]

    @model_validator(mode="after")
    def _check_range(self) -> Band:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"band {self.code}: high {self.high} is below low {self.low}")
        return self

    def contains(self, score: Number) -> bool:
        return self.low <= score and (self.high is None or score <= self.high)


class Scale(_Strict):
    code: Annotated[str, Field(pattern=CODE_PATTERN, max_length=50)]
    label: LocalText
    method: ScaleMethod
    items: list[int] = Field(default_factory=list)
    threshold: Number | None = None
    expression: str | None = None
    transform: str | None = None
    min_answered: Annotated[int, Field(ge=1)] | None = None
    bands: list[Band] = Field(default_factory=list)

    _transform: Expression | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_method(self) -> Scale:
        code = self.code
        if code in RESERVED_NAMES or keyword.iskeyword(code):
            raise ValueError(f"scale code {code!r} is reserved")
        if self.method == ScaleMethod.DERIVED:
            if not self.expression:
                raise ValueError(f"scale {code}: a derived scale needs an expression")
            if self.items or self.min_answered is not None or self.threshold is not None:
                raise ValueError(
                    f"scale {code}: a derived scale takes no items, threshold or min_answered"
                )
        else:
            if not self.items:
                raise ValueError(f"scale {code}: method {self.method} needs items")
            if self.expression is not None:
                raise ValueError(f"scale {code}: only a derived scale takes an expression")
            if len(set(self.items)) != len(self.items):
                raise ValueError(f"scale {code}: an item is listed twice")
            if (self.threshold is None) == (self.method in THRESHOLD_METHODS):
                raise ValueError(
                    f"scale {code}: threshold is required for count_gte/sum_gte "
                    "and not allowed otherwise"
                )
            if self.min_answered is not None and self.min_answered > len(self.items):
                raise ValueError(f"scale {code}: min_answered exceeds its number of items")
        if self.transform is not None:
            try:
                self._transform = Expression(self.transform, {"raw"})
            except ValueError as exc:
                raise ValueError(f"scale {code}: transform {exc}") from None
        ordered = sorted(self.bands, key=lambda band: band.low)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if before.high is None or after.low <= before.high:
                raise ValueError(f"scale {code}: bands {before.code} and {after.code} overlap")
        if len({band.code for band in self.bands}) != len(self.bands):
            raise ValueError(f"scale {code}: band codes must be unique")
        return self

    @property
    def required_answers(self) -> int:
        return self.min_answered if self.min_answered is not None else len(self.items)

    @property
    def transform_expression(self) -> Expression | None:
        return self._transform

    def band_for(self, score: Number | None) -> Band | None:
        if score is None:
            return None
        for band in self.bands:
            if band.contains(score):
                return band
        return None


class CriticalRule(_Strict):
    """Flag ``item`` when the answer matches.

    ``>``/``>=``/``==`` compare the chosen 0-based option index with ``option``, or the
    item's scored value with ``value``; ``in`` tests the option index against ``options``.
    """

    item: Annotated[int, Field(ge=1)]
    op: Literal[">", ">=", "==", "in"]
    option: Annotated[int, Field(ge=0)] | None = None
    value: Number | None = None
    options: list[Annotated[int, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _check_operands(self) -> CriticalRule:
        if self.op == "in":
            if not self.options or self.option is not None or self.value is not None:
                raise ValueError(f"critical item {self.item}: 'in' takes a list of options")
        elif (self.option is None) == (self.value is None) or self.options is not None:
            raise ValueError(
                f"critical item {self.item}: {self.op!r} takes exactly one of option or value"
            )
        return self

    def matches(self, index: int, scored: Number) -> bool:
        if self.op == "in":
            return index in self.options
        left, right = (index, self.option) if self.option is not None else (scored, self.value)
        if self.op == ">":
            return left > right
        if self.op == ">=":
            return left >= right
        return left == right


class Notes(_Strict):
    """Why the file says what it says, for its maintainers (English, with sources)."""

    critical_items: Annotated[str, Field(min_length=1)]
    scoring: str = ""


class InstrumentDef(_Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=50)]
    version: Annotated[int, Field(ge=1)]
    title: LocalText
    description: LocalText
    kind: InstrumentKind
    source: Annotated[str, Field(min_length=1)]
    licence: LicenceClass
    licence_note: str = ""
    items: Annotated[list[Item], Field(min_length=1)]
    scales: Annotated[list[Scale], Field(min_length=1)]
    critical_items: list[CriticalRule] = Field(default_factory=list)
    min_answered: Annotated[int, Field(ge=1)]
    # Results of versions with the same series are on the same metric and may be compared
    # (history chart, change); a version that rescales the scores starts a new series.
    scoring_series: Annotated[int, Field(ge=1)] = 1
    notes: Notes | None = None

    _order: tuple[Scale, ...] = PrivateAttr(default=())
    _tables: tuple[tuple[Number, ...], ...] = PrivateAttr(default=())
    _derived: dict[str, Expression] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> InstrumentDef:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("items must be numbered 1..n in order")
        if self.min_answered > len(self.items):
            raise ValueError(f"min_answered {self.min_answered} exceeds {len(self.items)} items")
        if self.scoring_series > self.version:
            raise ValueError(
                f"scoring_series {self.scoring_series} is after version {self.version}: a series "
                "starts at the version that rescales the scores"
            )
        codes = [scale.code for scale in self.scales]
        if len(set(codes)) != len(codes):
            raise ValueError("scale codes must be unique")
        for scale in self.scales:
            unknown = sorted(set(scale.items) - set(numbers))
            if unknown:
                raise ValueError(f"scale {scale.code}: unknown item(s) {unknown}")
        for rule in self.critical_items:
            if rule.item > len(self.items):
                raise ValueError(f"critical rule: unknown item {rule.item}")
            count = len(self.items[rule.item - 1].options)
            indexes = rule.options or ([rule.option] if rule.option is not None else [])
            if any(index >= count for index in indexes):
                raise ValueError(f"critical item {rule.item}: option index out of range")
        derived: dict[str, Expression] = {}
        for scale in self.scales:
            if scale.method == ScaleMethod.DERIVED:
                others = set(codes) - {scale.code}
                try:
                    derived[scale.code] = Expression(scale.expression, others)
                except ValueError as exc:
                    raise ValueError(f"scale {scale.code}: {exc}") from None
        self._derived = derived
        self._order = tuple(_evaluation_order(self.scales, derived))
        self._tables = tuple(item.scored_values for item in self.items)
        return self

    @property
    def has_skips(self) -> bool:
        return any(item.show_if is not None for item in self.items)

    @property
    def value_tables(self) -> tuple[tuple[Number, ...], ...]:
        """Per item (in order), the scored value of each option index."""
        return self._tables

    @property
    def evaluation_order(self) -> tuple[Scale, ...]:
        """Scales with every derived scale after the scales it reads."""
        return self._order

    def derived_expression(self, code: str) -> Expression:
        return self._derived[code]

    def scale(self, code: str) -> Scale:
        for scale in self.scales:
            if scale.code == code:
                return scale
        raise KeyError(code)


def _evaluation_order(scales: list[Scale], derived: dict[str, Expression]) -> list[Scale]:
    by_code = {scale.code: scale for scale in scales}
    order: list[Scale] = []
    state: dict[str, str] = {}  # code -> "visiting" | "done"

    def visit(code: str, path: list[str]) -> None:
        if state.get(code) == "done":
            return
        if state.get(code) == "visiting":
            cycle = " -> ".join([*path[path.index(code) :], code])
            raise ValueError(f"derived scales form a cycle: {cycle}")
        state[code] = "visiting"
        if code in derived:
            for name in sorted(derived[code].names):
                visit(name, [*path, code])
        state[code] = "done"
        order.append(by_code[code])

    for scale in scales:
        visit(scale.code, [])
    return order
