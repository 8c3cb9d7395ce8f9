"""SCL-90's structure (placeholder texts) scored from hand-computed vectors."""

from __future__ import annotations

import pytest

from assessments.scoring import score
from tests.assessments.conftest import scl90

FACTORS = {
    "somatization": [1, 4, 12, 27, 40, 42, 48, 49, 52, 53, 56, 58],
    "obsessive_compulsive": [3, 9, 10, 28, 38, 45, 46, 51, 55, 65],
    "interpersonal_sensitivity": [6, 21, 34, 36, 37, 41, 61, 69, 73],
    "depression": [5, 14, 15, 20, 22, 26, 29, 30, 31, 32, 54, 71, 79],
    "anxiety": [2, 17, 23, 33, 39, 57, 72, 78, 80, 86],
    "hostility": [11, 24, 63, 67, 74, 81],
    "phobic_anxiety": [13, 25, 47, 50, 70, 75, 82],
    "paranoid_ideation": [8, 18, 43, 68, 76, 83],
    "psychoticism": [7, 16, 35, 62, 77, 84, 85, 87, 88, 90],
}
ADDITIONAL = [19, 44, 59, 60, 64, 66, 89]


def answers_from(scores: dict[int, int]) -> list[int]:
    """Item scores (1..5, default 1) to option indexes (score - 1)."""
    return [scores.get(n, 1) - 1 for n in range(1, 91)]


def scales(scores: dict[int, int]) -> dict:
    result = score(scl90(), answers_from(scores))
    return {code: s.score for code, s in result.scales.items()}


def test_the_factor_lists_and_additional_items_cover_all_90_items():
    listed = sorted(n for items in FACTORS.values() for n in items) + ADDITIONAL
    assert sorted(listed) == list(range(1, 91))
    for code, items in FACTORS.items():
        assert scl90().scale(code).items == items


def test_no_symptoms():
    got = scales({})
    assert got["total"] == 90
    assert got["positives"] == 0
    assert got["gsi"] == 1
    assert got["psdi"] == 0  # zero positive items: guarded, not a division by zero
    assert all(got[code] == 1 for code in FACTORS)
    assert got["screen_positive"] == 0


def test_every_item_a_little_bit():
    got = scales(dict.fromkeys(range(1, 91), 2))
    assert (got["total"], got["positives"], got["gsi"], got["psdi"]) == (180, 90, 2, 2)
    assert got["screen_positive"] == 1


def test_depression_items_only():
    # 13 depression items at 3: total 90 + 13 * 2 = 116, positive sum 39, PSDI 39 / 13 = 3
    got = scales(dict.fromkeys(FACTORS["depression"], 3))
    assert (got["total"], got["positives"], got["positive_sum"], got["psdi"]) == (116, 13, 39, 3)
    assert got["depression"] == 3
    assert got["somatization"] == 1
    assert got["gsi"] == pytest.approx(116 / 90)
    assert got["screen_positive"] == 1  # a factor mean >= 2


def test_factor_mean_over_non_contiguous_items():
    # hostility items 11 and 81 at 4: (4 + 4 + 4 * 1) / 6 = 2
    got = scales({11: 4, 81: 4})
    assert got["hostility"] == 2
    assert got["screen_positive"] == 1
    assert scales({11: 4, 81: 3})["hostility"] == pytest.approx(11 / 6)


def many_positives(count: int) -> dict[int, int]:
    """``count`` items at 2 without filling any factor: additional items, then one short of
    each factor."""
    chosen = list(ADDITIONAL)
    for items in FACTORS.values():
        chosen += items[:-1]
    return dict.fromkeys(chosen[:count], 2)


def test_44_positive_items_screen_positive_43_do_not():
    at_44 = scales(many_positives(44))
    assert (at_44["positives"], at_44["total"]) == (44, 134)
    assert max(at_44[code] for code in FACTORS) < 2
    assert at_44["screen_positive"] == 1
    at_43 = scales(many_positives(43))
    assert (at_43["positives"], at_43["total"]) == (43, 133)
    assert at_43["screen_positive"] == 0


def high_total(anxiety_second: int) -> dict[int, int]:
    """Few, severe items: 7 additional items at 5 (+28) and two or three items at 5 in some
    factors (somatization, obsessive-compulsive, interpersonal: +8 each; depression +12;
    anxiety 4 + (anxiety_second - 1))."""
    scores = dict.fromkeys(ADDITIONAL, 5)
    for code, count in [
        ("somatization", 2),
        ("obsessive_compulsive", 2),
        ("interpersonal_sensitivity", 2),
        ("depression", 3),
    ]:
        scores.update(dict.fromkeys(FACTORS[code][:count], 5))
    scores[FACTORS["anxiety"][0]] = 5
    scores[FACTORS["anxiety"][1]] = anxiety_second
    return scores


def test_total_above_160_screens_positive():
    got = scales(high_total(5))  # 90 + 28 + 8 + 8 + 8 + 12 + 8 = 162
    assert (got["total"], got["positives"]) == (162, 18)
    assert got["depression"] == pytest.approx(25 / 13)
    assert max(got[code] for code in FACTORS) < 2
    assert got["psdi"] == pytest.approx(90 / 18)
    assert got["screen_positive"] == 1


def test_total_of_exactly_160_does_not():
    got = scales(high_total(3))  # 162 - 2
    assert (got["total"], got["positives"]) == (160, 18)
    assert got["screen_positive"] == 0
    assert score(scl90(), answers_from(high_total(3))).scales["screen_positive"].band == "negative"
