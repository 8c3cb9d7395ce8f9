"""Hand-computed scores for every shipped instrument, including band edges."""

from __future__ import annotations

import pytest

from assessments.scoring import AnswerError, score
from tests.assessments.conftest import load_def

SDS_REVERSED = {2, 5, 6, 11, 12, 14, 16, 17, 18, 20}
SAS_REVERSED = {5, 9, 13, 17, 19}
# Chinese version (季益富 & 于欣 1999): the positively worded items score 非常符合 = 4.
ROSENBERG_REVERSED = {1, 2, 4, 6, 7}


def total(slug: str, answers: list[int | None]) -> tuple:
    result = score(load_def(slug), answers)
    scale = result.scales["total"]
    return scale.raw, scale.score, scale.band


def zung_answers(raw: int, reversed_items: set[int]) -> list[int]:
    """Answers whose Zung raw sum is ``raw`` (20..80): start at the minimum, add points."""
    extra = raw - 20
    answers = []
    for number in range(1, 21):
        step = min(3, extra)
        extra -= step
        # scored value = index + 1 on forward items, 4 - index on reversed ones
        answers.append(3 - step if number in reversed_items else step)
    assert extra == 0
    return answers


def sum_answers(target: int, count: int, top: int) -> list[int]:
    """Forward-scored items 0..top: reach ``target`` filling from the first item."""
    answers = []
    for _ in range(count):
        step = min(top, target)
        target -= step
        answers.append(step)
    assert target == 0
    return answers


# PHQ-9 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(raw, band):
    assert total("phq9", sum_answers(raw, 9, 3)) == (raw, raw, band)


def test_phq9_all_zeros_is_minimal_without_critical_items():
    result = score(load_def("phq9"), [0] * 9)
    assert (result.scales["total"].raw, result.scales["total"].band) == (0, "minimal")
    assert result.critical_items == []


@pytest.mark.parametrize("answer", [1, 2, 3])
def test_phq9_item_9_above_zero_is_critical(answer):
    result = score(load_def("phq9"), [0] * 8 + [answer])
    assert result.critical_items == [9]
    assert result.scales["total"].raw == answer


def test_phq9_all_threes_is_27_severe_and_critical():
    result = score(load_def("phq9"), [3] * 9)
    assert (result.scales["total"].raw, result.scales["total"].band) == (27, "severe")
    assert result.critical_items == [9]


# GAD-7 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate")]
    + [(14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_gad7_bands(raw, band):
    assert total("gad7", sum_answers(raw, 7, 3)) == (raw, raw, band)


def test_gad7_has_no_critical_items():
    assert score(load_def("gad7"), [3] * 7).critical_items == []


# K10 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "band"),
    [(10, "low"), (15, "low"), (16, "moderate"), (21, "moderate"), (22, "high")]
    + [(29, "high"), (30, "very_high"), (50, "very_high")],
)
def test_k10_bands(raw, band):
    # options score 1..5, so index = value - 1
    assert total("k10", sum_answers(raw - 10, 10, 4)) == (raw, raw, band)


# SDS -------------------------------------------------------------------------------------


def test_sds_all_a_little_of_the_time_is_50_index_62_mild():
    # 10 forward items score 1, 10 reversed items score 5 - 1 = 4: 10 + 40 = 50; 50 * 1.25 = 62.5
    assert total("sds", [0] * 20) == (50, 62, "mild")


def test_sds_all_most_of_the_time_is_also_50():
    assert total("sds", [3] * 20) == (50, 62, "mild")


@pytest.mark.parametrize(
    ("raw", "index", "band"),
    [
        (20, 25, "normal"),
        (42, 52, "normal"),  # 52.5
        (43, 53, "mild"),  # 53.75
        (50, 62, "mild"),
        (51, 63, "moderate"),  # 63.75
        (58, 72, "moderate"),  # 72.5
        (59, 73, "severe"),  # 73.75
        (80, 100, "severe"),
    ],
)
def test_sds_index_bands(raw, index, band):
    assert total("sds", zung_answers(raw, SDS_REVERSED)) == (raw, index, band)


@pytest.mark.parametrize(("answer", "critical"), [(0, []), (1, [19]), (2, [19]), (3, [19])])
def test_sds_item_19_from_some_of_the_time_is_critical(answer, critical):
    """小部分时间 (option 1) is the first answer that endorses the thought, as PHQ-9 item 9."""
    answers = [0] * 20
    answers[18] = answer
    assert score(load_def("sds"), answers).critical_items == critical


# SAS -------------------------------------------------------------------------------------


def test_sas_all_a_little_of_the_time():
    # 15 forward items score 1, 5 reversed items score 4: 15 + 20 = 35; 35 * 1.25 = 43.75
    assert total("sas", [0] * 20) == (35, 43, "normal")


@pytest.mark.parametrize(
    ("raw", "index", "band"),
    [
        (20, 25, "normal"),
        (39, 48, "normal"),  # 48.75
        (40, 50, "mild"),
        (47, 58, "mild"),  # 58.75
        (48, 60, "moderate"),
        (55, 68, "moderate"),  # 68.75
        (56, 70, "severe"),
        (80, 100, "severe"),
    ],
)
def test_sas_index_bands(raw, index, band):
    assert total("sas", zung_answers(raw, SAS_REVERSED)) == (raw, index, band)


# Rosenberg -------------------------------------------------------------------------------


def test_rosenberg_items_follow_the_chinese_version():
    definition = load_def("rosenberg")
    assert definition.items[0].text.zh_hans.startswith("我感到我是一个有价值的人")
    assert definition.items[2].text.zh_hans.startswith("归根结底")
    assert definition.items[9].text.zh_hans == "我时常认为自己一无是处。"
    assert [o.label.zh_hans for o in definition.items[0].options] == [
        "非常符合",
        "符合",
        "不符合",
        "很不符合",
    ]
    assert {i.number for i in definition.items if i.reverse_keyed} == ROSENBERG_REVERSED


# Published key of the cited version: positive items 1,2,4,6,7 score 4 3 2 1 from 非常符合 to
# 很不符合, negative items 3,5,8,9,10 score 1 2 3 4; total 10-40, higher = higher self-esteem.
@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([0] * 10, 25),  # 非常符合 throughout: 5 x 4 + 5 x 1
        ([3] * 10, 25),  # 很不符合 throughout: 5 x 1 + 5 x 4
        ([0, 0, 3, 0, 3, 0, 0, 3, 3, 3], 40),  # highest self-esteem
        ([3, 3, 0, 3, 0, 3, 3, 0, 0, 0], 10),  # lowest
        ([1] * 10, 25),  # 符合 throughout: 5 x 3 + 5 x 2
        # item: index -> score 1:1->3 2:1->3 3:2->3 4:0->4 5:3->4 6:2->2 7:1->3 8:0->1 9:3->4
        # 10:2->3
        ([1, 1, 2, 0, 3, 2, 1, 0, 3, 2], 30),
    ],
)
def test_rosenberg_chinese_version_totals(answers, expected):
    assert total("rosenberg", answers) == (expected, expected, None)


def test_rosenberg_starts_a_new_scoring_series():
    """Version 1 scored 0-3 in the English order; its results are never charted with v2."""
    definition = load_def("rosenberg")
    assert (definition.version, definition.scoring_series) == (2, 2)


# AUDIT -----------------------------------------------------------------------------------


def audit_answers(first_eight: int, last_two: list[int]) -> list[int]:
    return sum_answers(first_eight, 8, 4) + last_two


@pytest.mark.parametrize(
    ("answers", "raw", "band"),
    [
        (audit_answers(0, [0, 0]), 0, "zone_1"),
        (audit_answers(7, [0, 0]), 7, "zone_1"),
        (audit_answers(6, [1, 0]), 8, "zone_2"),  # "yes, but not in the last year" = 2
        (audit_answers(11, [2, 0]), 15, "zone_2"),  # "yes, during the last year" = 4
        (audit_answers(12, [0, 2]), 16, "zone_3"),
        (audit_answers(15, [1, 1]), 19, "zone_3"),
        (audit_answers(16, [1, 1]), 20, "zone_4"),
        (audit_answers(32, [2, 2]), 40, "zone_4"),
    ],
)
def test_audit_zones(answers, raw, band):
    assert total("audit", answers) == (raw, raw, band)


def test_audit_items_9_and_10_have_three_options():
    with pytest.raises(AnswerError, match="item 9: option index 3 is out of range 0..2"):
        score(load_def("audit"), [0] * 8 + [3, 0])


# DAST-10 ---------------------------------------------------------------------------------


def dast(yes: set[int]) -> list[int]:
    return [1 if n in yes else 0 for n in range(1, 11)]


@pytest.mark.parametrize(
    ("yes", "raw", "band"),
    [
        ({3}, 0, "none"),  # "always able to stop": yes scores 0
        (set(), 1, "low"),  # every "no", and item 3 "no" scores 1
        ({1, 3}, 1, "low"),
        ({1, 2}, 3, "moderate"),
        ({1, 2, 4, 5}, 5, "moderate"),
        ({1, 2, 4, 5, 6}, 6, "substantial"),
        ({1, 2, 4, 5, 6, 7, 8}, 8, "substantial"),
        ({1, 2, 4, 5, 6, 7, 8, 9}, 9, "severe"),
        ({1, 2, 4, 5, 6, 7, 8, 9, 10}, 10, "severe"),
    ],
)
def test_dast10_levels(yes, raw, band):
    assert total("dast10", dast(yes)) == (raw, raw, band)


# Answer checks ---------------------------------------------------------------------------


def test_it_refuses_the_wrong_number_of_answers():
    with pytest.raises(AnswerError, match="phq9 has 9 items but 8 answers"):
        score(load_def("phq9"), [0] * 8)


def test_it_refuses_unanswered_items_below_min_answered():
    with pytest.raises(AnswerError, match="needs at least 9 answers, got 8"):
        score(load_def("phq9"), [0] * 8 + [None])


@pytest.mark.parametrize("bad", [-1, 4, 1.0, True, "1"])
def test_it_refuses_answers_that_are_not_option_indexes(bad):
    with pytest.raises(AnswerError, match="item 1"):
        score(load_def("phq9"), [bad] + [0] * 8)


def test_the_result_records_versions():
    result = score(load_def("phq9"), [0] * 9)
    assert (result.instrument, result.version, result.engine_version) == ("phq9", 1, "1.1")


@pytest.mark.django_db
def test_a_published_definition_is_validated_once_and_shared():
    from assessments.models import InstrumentVersion
    from tests.assessments.helpers import load

    load("phq9")
    first = InstrumentVersion.objects.get(instrument__slug="phq9").as_definition()
    again = InstrumentVersion.objects.get(instrument__slug="phq9").as_definition()
    assert first is again


@pytest.mark.django_db
def test_a_draft_definition_is_validated_every_time(phq9_data):
    from assessments.models import InstrumentVersion
    from assessments.schema import InstrumentDef
    from assessments.services import do_load_instrument

    do_load_instrument(InstrumentDef.model_validate(phq9_data))
    version = InstrumentVersion.objects.get(instrument__slug="phq9")
    InstrumentVersion.objects.filter(pk=version.pk).update(published=False)
    draft = InstrumentVersion.objects.get(pk=version.pk)
    assert draft.as_definition() is not draft.as_definition()
    assert draft.as_definition() == version.as_definition()
