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


def test_the_product_mark_replaces_wagtails_bird(client, org):
    """The sign-in page, the sidebar of every admin page and the admin's 404 show the product's
    mark (学习 / 帮扶) with its name, not Wagtail's bird and wordmark."""
    from django.utils import translation

    with translation.override("zh-hans"):
        signin = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert 'aria-label="Wagtail"' not in signin and "icon-wagtail" not in signin
        assert "社区矫正学习与心理支持平台" in signin and "帮扶" in signin
        assert "请输入用户名" in signin  # Wagtail's placeholder read "输入你的 用户名"
        login_staff(client, org.officer)
        home = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        sidebar = home.split("data-wagtail-sidebar-branding-logo>", 1)[1].split("</template>")[0]
        assert "product-logo" in sidebar and "帮扶" in sidebar
        missing = client.get("/admin/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert missing.status_code == 404 and "icon-wagtail" not in missing.content.decode()
