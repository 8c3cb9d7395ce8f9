"""The admin home speaks Chinese: Wagtail 8's own catalogue leaves its search box and its
editor-guide link in English, so the project's catalogue translates them."""

from __future__ import annotations

import pytest

from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["officer", "administrator"])
def test_the_admin_home_has_no_english_search_box_or_guide_link(client, org, role):
    login_staff(client, getattr(org, role))
    text = client.get("/admin/").content.decode()
    assert "Search all pages" not in text and "editor guide" not in text
    assert "搜索所有页面" in text and "编辑指南" in text
