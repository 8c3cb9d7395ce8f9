"""Properties over random answer vectors: score() and score_frame() agree, scores stay in
range, reverse keying mirrors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.schema import InstrumentDef
from assessments.scoring import AnswerError, find_critical_items, score, score_frame
from tests.assessments.conftest import SHIPPED_SLUGS, load_def, scl90

DEFINITIONS = {slug: load_def(slug) for slug in SHIPPED_SLUGS} | {"scl90": scl90()}
# (raw min, raw max, score min, score max) of the "total" scale
RANGES = {
    "phq9": (0, 27, 0, 27),
    "gad7": (0, 21, 0, 21),
    "k10": (10, 50, 10, 50),
    "sds": (20, 80, 25, 100),
    "sas": (20, 80, 25, 100),
    "rosenberg": (10, 40, 10, 40),
    "audit": (0, 40, 0, 40),
    "dast10": (0, 10, 0, 10),
    "scl90": (90, 450, 90, 450),
}


def relaxed(definition: InstrumentDef) -> InstrumentDef:
    """The same instrument accepting any number of answers, so missing values propagate."""
    return definition.model_copy(update={"min_answered": 1})


@st.composite
def responses(draw, definition: InstrumentDef, allow_missing: bool = False):
    answers = []
    for item in definition.items:
        choice = st.integers(0, len(item.options) - 1)
        answers.append(draw(st.one_of(st.none(), choice) if allow_missing else choice))
    return answers


@st.composite
def batches(draw, allow_missing: bool = False):
    slug = draw(st.sampled_from(sorted(DEFINITIONS)))
    definition = DEFINITIONS[slug]
    rows = draw(st.lists(responses(definition, allow_missing), min_size=1, max_size=12))
    return definition, rows


def same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not math.isnan(b) and float(a) == float(b)


def assert_frame_matches(definition: InstrumentDef, rows: list[list[int | None]]) -> None:
    frame = score_frame(definition, pd.DataFrame(rows, dtype=float))
    for position, answers in enumerate(rows):
        line = frame.iloc[position]
        assert tuple(line["critical_items"]) == tuple(find_critical_items(definition, answers))
        try:
            result = score(definition, answers)
        except AnswerError:
            assert not line["complete"]
            assert all(math.isnan(line[f"{s.code}.score"]) for s in definition.scales)
            continue
        assert line["complete"]
        assert list(line["critical_items"]) == result.critical_items
        for code, scale in result.scales.items():
            assert same(scale.raw, line[f"{code}.raw"]), (code, scale, answers)
            assert same(scale.score, line[f"{code}.score"]), (code, scale, answers)
            assert scale.band == line[f"{code}.band"], (code, scale, answers)


@settings(max_examples=150, deadline=None)
@given(batches())
def test_score_frame_agrees_with_score(batch):
    assert_frame_matches(*batch)


@settings(max_examples=100, deadline=None)
@given(batches(allow_missing=True))
def test_score_frame_agrees_with_score_when_answers_are_missing(batch):
    definition, rows = batch
    assert_frame_matches(relaxed(definition), rows)
    assert_frame_matches(definition, rows)  # incomplete rows: missing scores on both sides


@pytest.mark.parametrize("slug", sorted(DEFINITIONS))
def test_score_frame_agrees_on_many_random_rows(slug):
    definition = DEFINITIONS[slug]
    rng = np.random.default_rng(2026)
    rows = np.column_stack(
        [rng.integers(0, len(item.options), 400) for item in definition.items]
    ).tolist()
    assert_frame_matches(definition, rows)


@pytest.mark.parametrize("slug", sorted(DEFINITIONS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_total_stays_within_the_theoretical_range(slug, data):
    definition = DEFINITIONS[slug]
    raw_min, raw_max, score_min, score_max = RANGES[slug]
    result = score(definition, data.draw(responses(definition)))
    assert raw_min <= result.scales["total"].raw <= raw_max
    assert score_min <= result.scales["total"].score <= score_max
    if definition.scale("total").bands:
        assert result.scales["total"].band is not None


@pytest.mark.parametrize("slug", sorted(DEFINITIONS))
def test_the_theoretical_range_is_reached(slug):
    definition = DEFINITIONS[slug]
    lowest = [int(np.argmin(item.scored_values)) for item in definition.items]
    highest = [int(np.argmax(item.scored_values)) for item in definition.items]
    raw_min, raw_max, score_min, score_max = RANGES[slug]
    low, high = (
        score(definition, lowest).scales["total"],
        score(definition, highest).scales["total"],
    )
    assert (low.raw, low.score, high.raw, high.score) == (raw_min, score_min, raw_max, score_max)


@pytest.mark.parametrize("slug", sorted(DEFINITIONS))
def test_reverse_keyed_items_score_the_options_backwards(slug):
    for item in DEFINITIONS[slug].items:
        forward = [option.value for option in item.options]
        if item.reverse_keyed:
            assert list(item.scored_values) == forward[::-1]
        elif item.values is None:
            assert list(item.scored_values) == forward


@pytest.mark.parametrize("slug", ["sds", "sas", "rosenberg", "dast10", "phq9", "k10"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mirrored_answers_add_up_to_the_range(slug, data):
    """Answering every item at the opposite end of its options moves each item's score to
    (min + max) - score, for forward and reverse-keyed items alike."""
    definition = DEFINITIONS[slug]
    answers = data.draw(responses(definition))
    mirrored = [
        len(item.options) - 1 - a for item, a in zip(definition.items, answers, strict=True)
    ]
    raw_min, raw_max, _, _ = RANGES[slug]
    both = (
        score(definition, answers).scales["total"].raw
        + score(definition, mirrored).scales["total"].raw
    )
    assert both == raw_min + raw_max


def test_score_frame_rejects_an_index_out_of_range():
    with pytest.raises(AnswerError, match="item 2"):
        score_frame(DEFINITIONS["phq9"], pd.DataFrame([[0, 4, 0, 0, 0, 0, 0, 0, 0]]))


def test_score_frame_rejects_the_wrong_number_of_columns():
    with pytest.raises(AnswerError, match="9 items but the frame has 2 columns"):
        score_frame(DEFINITIONS["phq9"], pd.DataFrame([[0, 1]]))


def test_score_frame_keeps_the_index_and_reports_critical_items_of_incomplete_rows():
    frame = pd.DataFrame([[0] * 9, [None] * 8 + [2]], index=["a", "b"], dtype=float)
    result = score_frame(DEFINITIONS["phq9"], frame)
    assert list(result.index) == ["a", "b"]
    assert result.loc["a", "total.band"] == "minimal"
    assert not result.loc["b", "complete"]
    assert result.loc["b", "critical_items"] == (9,)
