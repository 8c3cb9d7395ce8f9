"""The axe check itself: it finds what it should, names the rule and the element, and lets
moderate findings pass (so a journey that passes has really been checked)."""

from __future__ import annotations

import pytest

from tests.browser.axe import run_axe

pytestmark = pytest.mark.browser

PAGE = """<!DOCTYPE html><html lang="zh-hans"><head><title>检查</title></head><body><main>
<h1>检查</h1>{}</main></body></html>"""


def test_a_serious_finding_is_reported_with_its_rule_and_element(phone):
    phone.set_content(
        PAGE.format('<img src="x.png"><p style="color:#999;background:#aaa">灰色的字</p>')
    )
    found = {v.rule: v for v in run_axe(phone)}
    assert {"image-alt", "color-contrast"} <= set(found)
    assert found["image-alt"].impact == "critical"
    # the selector, the markup and why: "Element does not have an alt attribute"
    assert found["image-alt"].targets[0].startswith('img <img src="x.png"> [Element does not')
    assert "image-alt" in str(found["image-alt"])


def test_a_clean_page_and_moderate_findings_pass(phone):
    phone.set_content(PAGE.format("<p>正文</p><h3>跳过了二级标题</h3>"))  # heading-order: moderate
    assert run_axe(phone) == []
