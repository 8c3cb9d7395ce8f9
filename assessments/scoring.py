"""The scoring engine: one response with ``score()``, many with ``score_frame()``.

Both functions implement the rules in ``assessments/schema.py`` and give identical results
(``tests/assessments/test_scoring_properties.py`` checks this for every shipped instrument).
A stored result should record ``ENGINE_VERSION`` together with the instrument version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assessments.schema import InstrumentDef, Scale, ScaleMethod
from assessments.skips import skipped_items, skipped_matrix, skipped_values

# 1.1: skip logic (``show_if``/``skipped_value``); scores of instruments without it unchanged.
ENGINE_VERSION = "1.1"
# score_frame() maps each combination of fired critical rules to one shared tuple; past this
# many rules it falls back to building the per-row tuples in a loop.
_MAX_RULES_FOR_COMBINATIONS = 12

Number = int | float


class AnswerError(ValueError):
    """The answers do not fit the instrument (length, option index, too few answered)."""


@dataclass(frozen=True)
class ScaleScore:
    raw: Number | None
    score: Number | None
    band: str | None


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    version: int
    scales: dict[str, ScaleScore]
    critical_items: list[int]
    answered: int
    engine_version: str = field(default=ENGINE_VERSION)

    def as_dict(self) -> dict[str, Any]:
        """The ``score_instrument`` JSON contract."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "scales": {
                code: {"raw": s.raw, "score": s.score, "band": s.band}
                for code, s in self.scales.items()
            },
            "critical_items": list(self.critical_items),
        }


def check_answers(instrument: InstrumentDef, answers: Sequence[Any]) -> list[int | None]:
    """Return the answers as option indexes (``None`` = unanswered or skipped) or raise
    AnswerError. Skipped items (``skips.skipped_items``) count as answered; whatever was
    given for them is dropped. Too few answers: the error names the shown items left empty
    when the instrument has skip logic."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise AnswerError("answers must be a list of option indexes")
    items = instrument.items
    if len(answers) != len(items):
        raise AnswerError(
            f"{instrument.slug} has {len(items)} items but {len(answers)} answers were given"
        )
    checked: list[int | None] = []
    for item, answer in zip(items, answers, strict=True):
        if answer is None:
            checked.append(None)
            continue
        if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
            raise AnswerError(f"item {item.number}: answer {answer!r} is not an option index")
        if not 0 <= answer < len(item.options):
            raise AnswerError(
                f"item {item.number}: option index {answer} is out of range "
                f"0..{len(item.options) - 1}"
            )
        checked.append(int(answer))
    skipped = skipped_items(instrument, checked)
    checked = [None if skip else answer for answer, skip in zip(checked, skipped, strict=True)]
    answered = sum(
        answer is not None or skip for answer, skip in zip(checked, skipped, strict=True)
    )
    if answered < instrument.min_answered:
        if instrument.has_skips:
            empty = [
                str(item.number)
                for item, answer, skip in zip(items, checked, skipped, strict=True)
                if answer is None and not skip
            ]
            raise AnswerError(
                f"{instrument.slug}: item(s) {', '.join(empty)} are shown by the answers given "
                "(not skipped) but have no answer; answer them, or give null only for items "
                "the skip rules hide"
            )
        raise AnswerError(
            f"{instrument.slug} needs at least {instrument.min_answered} answers, got {answered}"
        )
    return checked


def find_critical_items(instrument: InstrumentDef, answers: Sequence[int | None]) -> list[int]:
    """Item numbers whose answer matches a critical rule; works on partial answers too. A
    skipped item never fires (its stored answer, if any, is void)."""
    fired: list[int] = []
    skipped = skipped_items(instrument, answers)
    for rule in instrument.critical_items:
        index = answers[rule.item - 1]
        if index is None or skipped[rule.item - 1] or rule.item in fired:
            continue
        if rule.matches(index, instrument.items[rule.item - 1].scored_values[index]):
            fired.append(rule.item)
    return sorted(fired)


def score(instrument: InstrumentDef, answers: Sequence[int | None]) -> ScoreResult:
    """Score one response; ``answers`` are 0-based option indexes in item order."""
    indexes = check_answers(instrument, answers)
    skipped = skipped_items(instrument, indexes)
    values = [
        item.skipped_value if skip else (None if index is None else table[index])
        for item, table, index, skip in zip(
            instrument.items, instrument.value_tables, indexes, skipped, strict=True
        )
    ]
    scores: dict[str, Number | None] = {}
    results: dict[str, ScaleScore] = {}
    for scale in instrument.evaluation_order:
        if scale.method == ScaleMethod.DERIVED:
            raw = instrument.derived_expression(scale.code).evaluate(scores)
        else:
            raw = _aggregate(scale, [values[number - 1] for number in scale.items])
        transform = scale.transform_expression
        value = raw if transform is None or raw is None else transform.evaluate({"raw": raw})
        scores[scale.code] = value
        band = scale.band_for(value)
        results[scale.code] = ScaleScore(
            raw=_tidy(raw), score=_tidy(value), band=band.code if band else None
        )
    return ScoreResult(
        instrument=instrument.slug,
        version=instrument.version,
        # Report scales in the file's order, whatever order they were computed in.
        scales={scale.code: results[scale.code] for scale in instrument.scales},
        critical_items=find_critical_items(instrument, indexes),
        answered=sum(
            index is not None or skip for index, skip in zip(indexes, skipped, strict=True)
        ),
    )


def _aggregate(scale: Scale, values: list[Number | None]) -> Number | None:
    answered = [value for value in values if value is not None]
    if len(answered) < scale.required_answers:
        return None
    method = scale.method
    if method == ScaleMethod.SUM:
        return sum(answered)
    if method == ScaleMethod.MEAN:
        return sum(answered) / len(answered) if answered else None
    if method == ScaleMethod.COUNT_GTE:
        return sum(1 for value in answered if value >= scale.threshold)
    return sum(value for value in answered if value >= scale.threshold)  # SUM_GTE


def _tidy(value: Number | None) -> Number | None:
    """Whole numbers as int, so JSON shows ``27`` rather than ``27.0``."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return int(value)
    return value


def score_frame(instrument: InstrumentDef, frame: pd.DataFrame) -> pd.DataFrame:
    """Score many responses at once.

    ``frame`` has one row per response and one column per item, in item order, holding
    0-based option indexes (NaN/None = unanswered). Returns a frame on the same index with
    columns ``<code>.raw`` and ``<code>.score`` (float, NaN = missing) and ``<code>.band``
    (str or None) for each scale, ``critical_items`` (tuple of item numbers), and
    ``complete`` (False when fewer than the instrument's ``min_answered`` items were
    answered: such rows get missing scores, as ``score()`` refuses them, but their critical
    items are still reported). Raises AnswerError for a wrong column count or an index
    that is not an option of its item.
    """
    items = instrument.items
    if frame.shape[1] != len(items):
        raise AnswerError(
            f"{instrument.slug} has {len(items)} items but the frame has {frame.shape[1]} columns"
        )
    size = len(frame)
    answers = frame.to_numpy(dtype=float, na_value=np.nan)
    answered_mask = ~np.isnan(answers)
    values = np.full(answers.shape, np.nan)
    for column, item in enumerate(items):
        given = answers[:, column]
        present = answered_mask[:, column]
        index = given[present]
        if index.size and (
            (index != np.floor(index)).any() or index.min() < 0 or index.max() >= len(item.options)
        ):
            raise AnswerError(
                f"item {item.number}: option indexes must be whole numbers "
                f"0..{len(item.options) - 1}"
            )
        table = np.asarray(item.scored_values, dtype=float)
        values[present, column] = table[index.astype(np.intp)]

    critical_answers, critical_values = answers, values
    if instrument.has_skips:
        skipped = skipped_matrix(instrument, values)
        critical_answers = np.where(skipped, np.nan, answers)  # a skipped item never fires
        critical_values = np.where(skipped, np.nan, values)
        values = np.where(skipped, skipped_values(instrument)[np.newaxis, :], values)
        answered_mask = answered_mask | skipped
    complete = answered_mask.sum(axis=1) >= instrument.min_answered
    scores: dict[str, np.ndarray] = {}
    columns: dict[str, Any] = {}
    for scale in instrument.evaluation_order:
        if scale.method == ScaleMethod.DERIVED:
            raw = instrument.derived_expression(scale.code).evaluate_vector(scores, size)
        else:
            raw = _aggregate_vector(scale, values[:, [n - 1 for n in scale.items]])
        raw = np.where(complete, raw, np.nan)
        transform = scale.transform_expression
        value = raw if transform is None else transform.evaluate_vector({"raw": raw}, size)
        scores[scale.code] = value
        bands = np.full(size, None, dtype=object)
        for band in scale.bands:
            high = np.inf if band.high is None else band.high
            bands[(value >= band.low) & (value <= high)] = band.code
        columns[scale.code] = (raw, value, bands)

    data: dict[str, Any] = {}
    for scale in instrument.scales:
        raw, value, bands = columns[scale.code]
        data[f"{scale.code}.raw"] = raw
        data[f"{scale.code}.score"] = value
        data[f"{scale.code}.band"] = bands
    data["critical_items"] = _critical_vector(instrument, critical_answers, critical_values)
    data["complete"] = complete
    return pd.DataFrame(data, index=frame.index)


def _aggregate_vector(scale: Scale, values: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    answered = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    method = scale.method
    if method == ScaleMethod.SUM:
        result = filled.sum(axis=1)
    elif method == ScaleMethod.MEAN:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = filled.sum(axis=1) / answered
    elif method == ScaleMethod.COUNT_GTE:
        result = (present & (filled >= scale.threshold)).sum(axis=1).astype(float)
    else:  # SUM_GTE
        result = np.where(present & (filled >= scale.threshold), filled, 0.0).sum(axis=1)
    return np.where((answered >= scale.required_answers) & (answered > 0), result, np.nan)


def _critical_vector(
    instrument: InstrumentDef, answers: np.ndarray, values: np.ndarray
) -> np.ndarray:
    size = answers.shape[0]
    fired_by_item: dict[int, np.ndarray] = {}
    for rule in instrument.critical_items:
        column = rule.item - 1
        index, scored = answers[:, column], values[:, column]
        if rule.op == "in":
            fired = np.isin(index, rule.options)
        else:
            left, right = (index, rule.option) if rule.option is not None else (scored, rule.value)
            compare = {">": np.greater, ">=": np.greater_equal, "==": np.equal}[rule.op]
            fired = compare(left, right)  # NaN (unanswered) compares False
        fired_by_item[rule.item] = fired_by_item.get(rule.item, np.zeros(size, bool)) | fired
    numbers = sorted(fired_by_item)
    result = np.empty(size, dtype=object)
    if len(numbers) <= _MAX_RULES_FOR_COMBINATIONS:
        code = np.zeros(size, dtype=np.int64)
        for bit, number in enumerate(numbers):
            code |= fired_by_item[number].astype(np.int64) << bit
        combos = np.empty(1 << len(numbers), dtype=object)
        for combo in range(1 << len(numbers)):
            combos[combo] = tuple(n for bit, n in enumerate(numbers) if combo >> bit & 1)
        result[:] = combos[code]
    else:
        matrix = np.column_stack([fired_by_item[n] for n in numbers])
        for row in range(size):
            result[row] = tuple(n for n, hit in zip(numbers, matrix[row], strict=True) if hit)
    return result
