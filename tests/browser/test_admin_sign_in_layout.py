"""The staff sign-in at 360 px after a wrong password: the heading stays above the error banner
(a walk-through found it drawn over the banner), nothing scrolls sideways, the admin's skip link
has a target, and axe finds nothing serious (the browser fixture checks every page)."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.browser,
    # Serialized like every journey: a plain flush would leave the next journey's restore of the
    # migrated groups colliding with the ones post_migrate recreates.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_heading_stays_above_the_error_on_a_phone(live_server, browser, language):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    box = "el => el.getBoundingClientRect().toJSON()"
    heading = page.eval_on_selector("h1", box)
    banner = page.eval_on_selector(".messages", box)
    assert heading["bottom"] <= banner["top"], (heading, banner)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Wagtail's own skip link leads every admin page, to an element that exists.
    assert page.get_attribute("a.skiplink", "href") == "#main"
    assert page.locator("#main").count() == 1
    page.screenshot(path=f"/tmp/admin-sign-in-360-{language}.png", full_page=True)  # noqa: S108
    context.close()
