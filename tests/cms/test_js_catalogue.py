"""The Wagtail admin's JavaScript strings (the help menu's "(2 new items in this menu)", the
editor's messages) come in Chinese: ``locale/zh_Hans/LC_MESSAGES/djangojs.po`` fills what
Wagtail's own catalogue lacks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polib
import pytest
import wagtail
from django.test import Client

WAGTAIL_JS_STRINGS = Path(wagtail.__file__).parent / "admin/locale/en/LC_MESSAGES/djangojs.po"
pytestmark = pytest.mark.django_db

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalogue(language: str) -> dict:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    response = client.get("/admin/jsi18n/")
    assert response.status_code == 200
    found = re.search(r"const newcatalog = (\{.*?\});", response.content.decode(), re.DOTALL)
    return json.loads(found[1]) if found else {}


def test_every_wagtail_admin_js_string_has_chinese():
    catalogue = _catalogue("zh-hans")
    untranslated = []
    for entry in polib.pofile(str(WAGTAIL_JS_STRINGS)):
        value = catalogue.get(entry.msgid)
        texts = value if isinstance(value, list) else [value or entry.msgid]
        if any(re.search(r"[A-Za-z]", PLACEHOLDER.sub("", text)) for text in texts):
            untranslated.append(entry.msgid)
    assert not untranslated, "Wagtail admin JS strings without Chinese:\n" + "\n".join(untranslated)


def test_help_menu_count_in_chinese_and_english():
    assert _catalogue("zh-hans")["(%(number)s new items in this menu)"] == (
        "（此菜单有 %(number)s 项新内容）"
    )
    assert "(%(number)s new items in this menu)" not in _catalogue("en")
