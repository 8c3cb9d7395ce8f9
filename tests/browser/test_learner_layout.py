"""Layout defects from a walk-through of the learner pages at 360 px, checked in Chromium
against the real ``static/css/site.css`` (no server needed: the markup is the templates')."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text(encoding="utf-8")
LONG = "社区矫正对象在就业、就学和享受社会保障等方面不受歧视，这句话对吗？请选择。"


def _page(phone, body: str) -> None:
    phone.set_content(f"<html><head><style>{CSS}</style></head><body>{body}</body></html>")


def test_a_long_quiz_question_wraps_inside_its_box(phone):
    _page(
        phone,
        f"""<main class="container"><section class="card" id="quiz"><form>
        <fieldset><legend>1. {LONG}</legend>
        <label><input type="radio" name="q" value="0"> 正确</label>
        <label><input type="radio" name="q" value="1"> 错误</label></fieldset>
        </form></section></main>""",
    )
    box = phone.eval_on_selector("#quiz fieldset", "el => el.getBoundingClientRect().toJSON()")
    legend = phone.eval_on_selector("#quiz legend", "el => el.getBoundingClientRect().toJSON()")
    first = phone.eval_on_selector("#quiz label", "el => el.getBoundingClientRect().toJSON()")
    assert legend["height"] > 40  # it does wrap at 360 px
    assert legend["top"] > box["top"] + 1  # below the top border, not across it
    assert legend["right"] <= box["right"] and legend["left"] >= box["left"]
    assert first["top"] >= legend["bottom"]  # the answers come after the whole question
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_link_button_on_a_white_card_can_be_seen(phone):
    _page(
        phone,
        """<header class="site-header"><nav class="header-nav">
        <button class="link-button" id="signout">退出</button></nav></header>
        <main class="container"><section class="card"><p class="muted">说明</p>
        <form class="notice-actions"><button class="link-button" id="read-all">全部标为已读</button>
        </form></section></main>""",
    )
    colour = "el => getComputedStyle(el).color"
    assert phone.eval_on_selector("#read-all", colour) != "rgb(255, 255, 255)"
    assert phone.eval_on_selector("#signout", colour) == "rgb(255, 255, 255)"
