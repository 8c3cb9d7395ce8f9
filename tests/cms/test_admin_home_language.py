"""The admin home speaks Chinese and carries no Wagtail chrome nobody here works with: no
search box over all pages, no editor-guide link (it leads to Wagtail's English site), no site
summary of page and image counts."""

from __future__ import annotations

import pytest

from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["officer", "administrator", "editor", "lecturer", "counselor"])
def test_the_admin_home_has_no_search_box_guide_link_or_site_summary(client, org, role):
    login_staff(client, getattr(org, role))
    text = client.get("/admin/").content.decode()
    assert "Search all pages" not in text and "搜索所有页面" not in text
    assert "editor guide" not in text and "编辑指南" not in text
    assert "w-summary" not in text and 'role="search"' not in text.split("<main", 1)[-1]
