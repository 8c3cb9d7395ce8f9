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


def _contrast(rgb_a: str, rgb_b: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(r, g, b)`` colours."""

    def luminance(rgb: str) -> float:
        channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


HEADER = """<a class="skip-link" href="#main">跳到正文</a>
<header class="site-header"><div class="container header-row">
<a class="brand" href="/">学习与帮扶</a>
<nav class="header-nav"><a id="messages" href="/notifications/">消息</a></nav></div>
<form class="language-switcher container">
<button class="lang current" id="current">简体中文</button>
<button class="lang" id="other">English</button></form></header>
<main class="container" id="main"><section class="card"><h2>本月学习时长</h2>
<progress value="40" max="150"></progress><a id="card-link" href="#main">继续学习</a>
<ul class="course-list">
<li><strong>每月法治微课</strong><progress value="1" max="3"></progress></li></ul>
<p class="muted"><progress value="1" max="3"></progress> 已完成 1 / 3 课时</p>
</section></main>"""
GREEN = "rgb(47, 111, 94)"


def test_the_current_language_reads_at_4_5_to_1(phone):
    _page(phone, HEADER)
    style = "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
    colour, background = phone.eval_on_selector("#current", style)
    assert _contrast(colour, background) >= 4.5  # was white on white at 20 %: 3.8:1


def test_the_focus_ring_shows_on_the_green_header_and_on_the_page(phone):
    _page(phone, HEADER)
    ring = "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineColor]"
    phone.keyboard.press("Tab")  # the skip link comes first, and shows when focused
    assert phone.evaluate("document.activeElement.className") == "skip-link"
    assert phone.eval_on_selector(".skip-link", "el => el.getBoundingClientRect().top") >= 0
    phone.focus("#messages")
    style, colour = phone.eval_on_selector("#messages", ring)
    assert style == "solid" and _contrast(colour, GREEN) >= 3  # the default was 2.2:1
    phone.focus("#card-link")
    style, colour = phone.eval_on_selector("#card-link", ring)
    assert style == "solid" and _contrast(colour, "rgb(255, 255, 255)") >= 3  # on a white card


def test_nothing_scrolls_sideways_at_200_percent_zoom(browser):
    # A 360 px phone at 200 % zoom lays out 180 CSS pixels.
    context = browser.new_context(viewport={"width": 180, "height": 740}, device_scale_factor=2)
    page = context.new_page()
    _page(page, HEADER)
    assert page.evaluate("document.documentElement.scrollWidth") <= 180
    widths = page.eval_on_selector_all("progress", "els => els.map(e => e.offsetWidth)")
    # Inside the page's and the card's padding, even a bar with no width of its own.
    assert len(widths) == 3 and all(width <= 180 - 64 for width in widths), widths
    context.close()
