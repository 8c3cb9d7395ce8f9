from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from assessments.expressions import Expression, ExpressionError
from assessments.schema import InstrumentDef
from tests.assessments.conftest import SHIPPED_SLUGS, load_def, scl90


def text(value: str = "x") -> dict:
    return {"zh-hans": value, "en": value}


def scale(code: str, **extra) -> dict:
    return {"code": code, "label": text(code), **extra}


def instrument(**overrides) -> dict:
    data = {
        "slug": "tiny",
        "version": 1,
        "title": text("tiny"),
        "description": text(),
        "kind": "screening",
        "source": "test",
        "licence": "public-domain",
        "items": [
            {
                "number": n,
                "text": text(f"item {n}"),
                "options": [{"label": text("no"), "value": 0}, {"label": text("yes"), "value": 1}],
            }
            for n in (1, 2, 3)
        ],
        "scales": [scale("total", method="sum", items=[1, 2, 3])],
        "min_answered": 3,
    }
    data.update(overrides)
    return data


def errors_of(data: dict) -> str:
    with pytest.raises(ValidationError) as exc:
        InstrumentDef.model_validate(data)
    return str(exc.value)


@pytest.mark.parametrize("slug", SHIPPED_SLUGS)
def test_every_shipped_instrument_is_valid(slug):
    definition = load_def(slug)
    assert definition.slug == slug
    assert definition.kind == "screening"
    assert definition.scale("total")
    assert all(item.text.zh_hans and item.text.en for item in definition.items)


def test_the_scl90_fixture_is_valid():
    assert len(scl90().items) == 90


def test_it_accepts_a_minimal_instrument():
    assert InstrumentDef.model_validate(instrument()).scale("total").items == [1, 2, 3]


def test_it_rejects_unknown_fields():
    assert "extra_field" in errors_of(instrument(extra_field=1))


def test_it_rejects_unknown_fields_in_nested_objects():
    data = instrument()
    data["items"][0]["options"][0]["colour"] = "red"
    assert "colour" in errors_of(data)


def test_it_rejects_a_diagnosis_kind():
    assert "kind" in errors_of(instrument(kind="diagnosis"))


def test_it_rejects_overlapping_bands():
    bands = [
        {"low": 0, "high": 2, "code": "low", "label": text(), "severity": 0},
        {"low": 2, "high": 3, "code": "high", "label": text(), "severity": 1},
    ]
    message = errors_of(
        instrument(scales=[scale("total", method="sum", items=[1, 2, 3], bands=bands)])
    )
    assert "overlap" in message


def test_an_open_band_overlaps_everything_above_it():
    bands = [
        {"low": 0, "high": None, "code": "any", "label": text(), "severity": 0},
        {"low": 5, "high": 6, "code": "high", "label": text(), "severity": 1},
    ]
    assert "overlap" in errors_of(
        instrument(scales=[scale("total", method="sum", items=[1, 2, 3], bands=bands)])
    )


def test_it_rejects_a_band_whose_high_is_below_its_low():
    bands = [{"low": 3, "high": 1, "code": "odd", "label": text(), "severity": 0}]
    assert "below" in errors_of(
        instrument(scales=[scale("total", method="sum", items=[1, 2, 3], bands=bands)])
    )


def test_it_rejects_a_severity_outside_0_to_4():
    bands = [{"low": 0, "high": 3, "code": "x", "label": text(), "severity": 5}]
    assert "severity" in errors_of(
        instrument(scales=[scale("total", method="sum", items=[1, 2, 3], bands=bands)])
    )


def test_it_rejects_an_unknown_item_in_a_scale():
    assert "unknown item(s) [4]" in errors_of(
        instrument(scales=[scale("total", method="sum", items=[1, 2, 4])])
    )


def test_it_rejects_items_not_numbered_in_order():
    data = instrument()
    data["items"][1]["number"] = 5
    assert "numbered 1..n" in errors_of(data)


def test_it_rejects_a_cycle_in_derived_scales():
    scales = [
        scale("total", method="sum", items=[1, 2, 3]),
        scale("a", method="derived", expression="b + total"),
        scale("b", method="derived", expression="a * 2"),
    ]
    assert "cycle" in errors_of(instrument(scales=scales))


def test_it_rejects_a_derived_scale_reading_itself():
    scales = [scale("a", method="derived", expression="a + 1"), scale("t", method="sum", items=[1])]
    assert "unknown name 'a'" in errors_of(instrument(scales=scales))


def test_it_rejects_a_derived_scale_reading_an_undefined_scale():
    scales = [
        scale("total", method="sum", items=[1, 2, 3]),
        scale("d", method="derived", expression="total + missing"),
    ]
    assert "unknown name 'missing'" in errors_of(instrument(scales=scales))


def test_it_orders_derived_scales_after_their_inputs():
    scales = [
        scale("b", method="derived", expression="a + 1"),
        scale("a", method="derived", expression="total * 2"),
        scale("total", method="sum", items=[1, 2, 3]),
    ]
    order = [
        s.code for s in InstrumentDef.model_validate(instrument(scales=scales)).evaluation_order
    ]
    assert order.index("total") < order.index("a") < order.index("b")


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "total.__class__",
        "total.real",
        "open('x')",
        "[total]",
        "'text'",
        "total ** 2",
        "lambda: 1",
        "total // 2",
        "True",
        "round(total, 2)",
        "floor(x=total)",
        "(total := 3)",
        "total[0]",
    ],
)
def test_it_rejects_expressions_outside_the_grammar(expression):
    scales = [
        scale("total", method="sum", items=[1, 2, 3]),
        scale("d", method="derived", expression=expression),
    ]
    assert "scale d" in errors_of(instrument(scales=scales))


def test_attribute_access_gets_a_clear_message():
    with pytest.raises(ExpressionError, match="attribute access is not allowed"):
        Expression("total.__class__", {"total"})


def test_import_gets_a_clear_message():
    with pytest.raises(ExpressionError, match="call to '__import__' is not allowed"):
        Expression("__import__('os')", {"total"})


def test_a_transform_may_only_read_raw():
    scales = [scale("total", method="sum", items=[1, 2, 3], transform="floor(total * 1.25)")]
    assert "unknown name 'total'" in errors_of(instrument(scales=scales))


@pytest.mark.parametrize(
    ("expression", "env", "expected"),
    [
        ("floor(raw * 1.25)", {"raw": 50}, 62),
        ("ceil(raw / 4)", {"raw": 5}, 2),
        ("round(raw)", {"raw": 2.5}, 2),
        ("-raw + abs(-3)", {"raw": 1}, 2),
        ("min(raw, 3, 7) + max(raw, 3)", {"raw": 1}, 4),
        ("raw > 1 and not raw == 3", {"raw": 2}, 1),
        ("1 < raw <= 3 or raw == 9", {"raw": 4}, 0),
        ("raw / 0", {"raw": 4}, None),
        ("raw + 1", {"raw": None}, None),
        ("1 / raw if raw != 0 else 0", {"raw": 0}, 0),
    ],
)
def test_expressions_evaluate_as_documented(expression, env, expected):
    assert Expression(expression, {"raw"}).evaluate(env) == expected


def test_a_derived_scale_takes_no_items():
    scales = [
        scale("total", method="sum", items=[1, 2, 3]),
        scale("d", method="derived", expression="total", items=[1]),
    ]
    assert "takes no items" in errors_of(instrument(scales=scales))


def test_count_gte_needs_a_threshold():
    assert "threshold" in errors_of(instrument(scales=[scale("n", method="count_gte", items=[1])]))


def test_a_scale_code_may_not_shadow_a_function():
    scales = [scale("floor", method="sum", items=[1])]
    assert "reserved" in errors_of(instrument(scales=scales))


def test_it_rejects_explicit_values_of_the_wrong_length():
    data = instrument()
    data["items"][0]["values"] = [1, 0, 2]
    assert "values has 3 entries" in errors_of(data)


def test_it_rejects_a_critical_rule_on_an_unknown_option():
    rules = [{"item": 1, "op": "in", "options": [0, 2]}]
    assert "out of range" in errors_of(instrument(critical_items=rules))


def test_it_rejects_a_critical_rule_with_both_option_and_value():
    rules = [{"item": 1, "op": ">", "option": 0, "value": 1}]
    assert "exactly one of option or value" in errors_of(instrument(critical_items=rules))


def test_it_rejects_min_answered_above_the_item_count():
    assert "min_answered" in errors_of(instrument(min_answered=4))


def test_the_file_is_json_with_aliased_language_keys():
    data = json.loads(json.dumps(instrument()))
    definition = InstrumentDef.model_validate(data)
    assert definition.model_dump(mode="json", by_alias=True)["title"] == {
        "zh-hans": "tiny",
        "en": "tiny",
    }
