"""Skip logic: which items a response shows, from the ``show_if`` rules of the file.

One rule, used by the scorer (``scoring.score``/``score_frame``) and by the one-item-per-screen
page (``taking``): an item is hidden only when its ``show_if`` evaluates to 0 over the scored
values ``q1, q2, ...`` of the earlier items, where a hidden item counts as its
``skipped_value`` and an unanswered one as missing. A condition that reads a missing value is
unknown, and an unknown condition shows the item (it is asked rather than silently scored).

A *skipped* item is a hidden item of an incomplete response: it scores ``skipped_value``
whatever was stored for it. A response with every item answered is scored as given (the paper
form, where the person answered everything), so nothing in it is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assessments.schema import InstrumentDef


def shown_items(instrument: InstrumentDef, answers: Sequence[int | None]) -> list[bool]:
    """Per item (in order), whether it is shown given ``answers`` (0-based option indexes,
    ``None`` = unanswered; assumed valid, see ``scoring.check_answers``)."""
    env: dict[str, int | float | None] = {}
    shown: list[bool] = []
    for item, table, answer in zip(instrument.items, instrument.value_tables, answers, strict=True):
        condition = item.show_if_expression
        visible = condition is None or condition.evaluate(env) != 0  # None (unknown) shows
        shown.append(visible)
        if visible:
            env[f"q{item.number}"] = None if answer is None else table[answer]
        else:
            env[f"q{item.number}"] = item.skipped_value
    return shown


def skipped_items(instrument: InstrumentDef, answers: Sequence[int | None]) -> list[bool]:
    """Per item, whether it is skipped: hidden in a response that is not complete."""
    if not instrument.has_skips or all(answer is not None for answer in answers):
        return [False] * len(instrument.items)
    return [not visible for visible in shown_items(instrument, answers)]


def without_hidden(instrument: InstrumentDef, answers: Sequence[int | None]) -> list[int | None]:
    """``answers`` with the answers of hidden items removed (``None``): what the page keeps
    after an answer that hides later items, so a stale answer is never scored or shown."""
    shown = shown_items(instrument, answers)
    return [answer if visible else None for answer, visible in zip(answers, shown, strict=True)]


def shown_matrix(instrument: InstrumentDef, values: np.ndarray) -> np.ndarray:
    """``shown_items`` for many responses at once: ``values`` holds scored values (NaN =
    unanswered), one row per response; returns a boolean array of the same shape."""
    size = values.shape[0]
    shown = np.ones(values.shape, dtype=bool)
    env: dict[str, np.ndarray] = {}
    for column, item in enumerate(instrument.items):
        condition = item.show_if_expression
        if condition is not None:
            # NaN (unknown) is not 0, so the item stays shown.
            shown[:, column] = condition.evaluate_vector(env, size) != 0
        env[f"q{item.number}"] = np.where(
            shown[:, column],
            values[:, column],
            np.nan if item.skipped_value is None else float(item.skipped_value),
        )
    return shown


def skipped_matrix(instrument: InstrumentDef, values: np.ndarray) -> np.ndarray:
    """``skipped_items`` for many responses at once (``values`` as in ``shown_matrix``)."""
    if not instrument.has_skips:
        return np.zeros(values.shape, dtype=bool)
    full = ~np.isnan(values).any(axis=1)
    return ~shown_matrix(instrument, values) & ~full[:, np.newaxis]


def skipped_values(instrument: InstrumentDef) -> np.ndarray:
    """Per item, the value a skipped item scores (NaN for items that are never skipped)."""
    return np.array(
        [np.nan if item.skipped_value is None else item.skipped_value for item in instrument.items],
        dtype=float,
    )
