"""Skip logic (``show_if``/``skipped_value``): the schema checks the rules, one pure function
decides what is shown, and the scorer counts a skipped item only with its fixed score."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assessments.schema import InstrumentDef, Notes
from assessments.scoring import AnswerError, score, score_frame
from assessments.services import ImmutableVersionError, definition_checksum, do_load_instrument
from assessments.skips import shown_items, shown_matrix, skipped_items, without_hidden
from tests.assessments.conftest import SHIPPED_SLUGS, load_def, raw_file

AUDIT = load_def("audit")
K10 = load_def("k10")
SKIPPING = {"audit": AUDIT, "k10": K10}


def total(definition: InstrumentDef, answers: list[int | None]) -> int:
    return score(definition, answers).scales["total"].raw


# The published rules ---------------------------------------------------------------------


def test_audit_never_on_item_1_skips_to_items_9_and_10():
    answers = [0] + [None] * 7 + [2, 1]
    assert shown_items(AUDIT, answers) == [True] + [False] * 7 + [True, True]
    assert total(AUDIT, answers) == 0 + 4 + 2  # items 9, 10 score 0/2/4


def test_audit_items_2_and_3_scoring_0_skip_items_4_to_8():
    answers = [2, 0, 0] + [None] * 5 + [0, 0]
    assert shown_items(AUDIT, answers) == [True, True, True] + [False] * 5 + [True, True]
    assert total(AUDIT, answers) == 2


def test_audit_items_4_to_8_are_asked_once_item_2_or_3_scores():
    answers = [2, 1, 0] + [None] * 5 + [0, 0]
    assert shown_items(AUDIT, answers) == [True] * 10
    with pytest.raises(AnswerError, match=r"item\(s\) 4, 5, 6, 7, 8 are shown"):
        score(AUDIT, answers)


def test_k10_none_of_the_time_on_item_2_skips_item_3_and_on_item_5_skips_item_6():
    answers = [2, 0, None, 1, 0, None, 3, 0, 0, 4]
    assert skipped_items(K10, answers) == [False, False, True] + [False] * 2 + [True] + [False] * 4
    # values 1..5; skipped items score 1 ("none of the time")
    assert total(K10, answers) == 3 + 1 + 1 + 2 + 1 + 1 + 4 + 1 + 1 + 5


def test_k10_item_3_left_empty_after_nervous_is_refused():
    answers = [0, 1, None, 0, 0, None, 0, 0, 0, 0]
    with pytest.raises(AnswerError, match=r"item\(s\) 3 are shown"):
        score(K10, answers)


def test_a_complete_paper_form_is_scored_as_given():
    # "Never" on item 1, yet items 2-8 answered (the paper self-report form): all counted.
    answers = [0, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    assert skipped_items(AUDIT, answers) == [False] * 10
    assert total(AUDIT, answers) == 7
    assert total(K10, [0] * 10) == 10


def test_a_stale_answer_of_a_skipped_item_is_not_counted():
    # Item 1 "Never" hides 2-8; the 4 stored for item 2 is void in an incomplete response.
    answers = [0, 4, None, None, None, None, None, None, 0, 0]
    assert total(AUDIT, answers) == 0
    assert without_hidden(AUDIT, answers) == [0] + [None] * 7 + [0, 0]


def test_an_unknown_condition_shows_the_item():
    # item 1 unanswered: whether 2-8 are asked is unknown, so they are shown
    assert shown_items(AUDIT, [None] * 10) == [True] * 10


@pytest.mark.parametrize("slug", SHIPPED_SLUGS)
def test_every_shipped_file_says_why_its_critical_items_are_what_they_are(slug):
    definition = load_def(slug)
    assert definition.notes is not None and definition.notes.critical_items.strip()
    for rule in definition.critical_items:
        assert f"Item {rule.item}" in definition.notes.critical_items


def test_the_zung_files_say_the_index_is_the_integer_part():
    for slug in ("sds", "sas"):
        definition = load_def(slug)
        assert definition.scales[0].transform == "floor(raw * 1.25)"
        assert "integer part" in definition.notes.scoring
        assert "round half up" in definition.notes.scoring or "half up" in definition.notes.scoring


# The schema checker ----------------------------------------------------------------------


def audit_with(item_number: int, **changes) -> dict:
    data = raw_file("audit")
    item = data["items"][item_number - 1]
    item.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del item[key]
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"show_if": "q3 > 0"}, "may read only earlier items"),  # item 2 reads a later item
        ({"show_if": "q2 > 0"}, "may read only earlier items"),  # itself
        ({"show_if": "__import__('os')"}, "may read only earlier items"),
        ({"show_if": "q1 >"}, "not a valid expression"),
        ({"skipped_value": None}, "show_if and skipped_value go together"),
        ({"skipped_value": 7}, "skipped_value 7 is not one of the item's scored values"),
    ],
)
def test_the_schema_refuses_a_bad_skip_rule(changes, message):
    with pytest.raises(ValidationError, match=message):
        InstrumentDef.model_validate(audit_with(2, **changes))


def test_a_scoring_series_cannot_start_after_its_version():
    data = raw_file("phq9")
    data["scoring_series"] = 2
    with pytest.raises(ValidationError, match="scoring_series 2 is after version 1"):
        InstrumentDef.model_validate(data)


# score_instrument ------------------------------------------------------------------------


@pytest.mark.django_db
def test_score_instrument_takes_null_for_a_skipped_item(capsys):
    call_command("score_instrument", "k10", "--answers", "[0,0,null,0,0,null,0,0,0,0]")
    assert json.loads(capsys.readouterr().out)["scales"]["total"]["raw"] == 10


@pytest.mark.django_db
def test_score_instrument_refuses_a_shown_item_left_null():
    with pytest.raises(CommandError, match=r"audit: item\(s\) 2, 3, 4") as exc:
        call_command("score_instrument", "audit", "--answers", json.dumps([1] + [None] * 9))
    assert exc.value.returncode == 2
    assert "\n" not in str(exc.value)


# Properties ------------------------------------------------------------------------------


@st.composite
def taken(draw, definition: InstrumentDef):
    """A response as the one-item-per-screen page leaves it: each shown item answered or
    left empty, hidden items possibly holding a stale answer."""
    answers: list[int | None] = [None] * len(definition.items)
    for position, item in enumerate(definition.items):
        answers[position] = draw(st.integers(0, len(item.options) - 1))
    shown = shown_items(definition, answers)
    for position, item in enumerate(definition.items):
        if not shown[position]:
            answers[position] = draw(st.one_of(st.none(), st.integers(0, len(item.options) - 1)))
    if draw(st.booleans()) and any(not s for s in shown):
        # the page clears a hidden answer; make sure at least one gap is there
        hidden = [p for p, s in enumerate(shown) if not s]
        answers[draw(st.sampled_from(hidden))] = None
    return answers


@settings(max_examples=200, deadline=None)
@given(data=st.data(), slug=st.sampled_from(sorted(SKIPPING)))
def test_a_skipped_item_counts_only_with_its_fixed_score(data, slug):
    definition = SKIPPING[slug]
    answers = data.draw(taken(definition))
    skipped = skipped_items(definition, answers)
    expected = sum(
        item.skipped_value if skip else table[answer]
        for item, table, answer, skip in zip(
            definition.items, definition.value_tables, answers, skipped, strict=True
        )
    )
    assert total(definition, answers) == expected
    # whatever stale answer a skipped item holds, the score does not move
    for position, skip in enumerate(skipped):
        if skip:
            for other in range(len(definition.items[position].options)):
                changed = list(answers)
                changed[position] = other
                if None in changed:
                    assert total(definition, changed) == expected


@settings(max_examples=200, deadline=None)
@given(data=st.data(), slug=st.sampled_from(sorted(SKIPPING)))
def test_a_full_vector_is_scored_as_given(data, slug):
    definition = SKIPPING[slug]
    answers = [data.draw(st.integers(0, len(item.options) - 1)) for item in definition.items]
    expected = sum(table[a] for table, a in zip(definition.value_tables, answers, strict=True))
    assert total(definition, answers) == expected
    assert skipped_items(definition, answers) == [False] * len(answers)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), slug=st.sampled_from(sorted(SKIPPING)))
def test_score_frame_and_shown_matrix_agree_with_the_scalar_rule(data, slug):
    definition = SKIPPING[slug]
    rows = data.draw(st.lists(taken(definition), min_size=1, max_size=8))
    frame = score_frame(definition, pd.DataFrame(rows, dtype=float))
    values = np.array(
        [
            [
                np.nan if a is None else table[a]
                for table, a in zip(definition.value_tables, row, strict=True)
            ]
            for row in rows
        ],
        dtype=float,
    )
    shown = shown_matrix(definition, values)
    for position, row in enumerate(rows):
        assert list(shown[position]) == shown_items(definition, row)
        assert frame.iloc[position]["complete"]
        assert frame.iloc[position]["total.raw"] == total(definition, row)


@pytest.mark.django_db
def test_rewording_a_note_needs_no_new_version():
    definition = load_def("phq9")
    assert do_load_instrument(definition) == "created"
    reworded = definition.model_copy(update={"notes": Notes(critical_items="Reworded.")})
    assert definition_checksum(reworded) == definition_checksum(definition)
    assert do_load_instrument(reworded) == "unchanged"
    assert do_load_instrument(load_def("k10")) == "created"
    moved = raw_file("k10")
    moved["items"][2]["show_if"] = "q2 > 2"
    with pytest.raises(ImmutableVersionError):
        do_load_instrument(InstrumentDef.model_validate(moved))
