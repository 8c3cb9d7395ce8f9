"""Playwright drives the system's Debian Chromium (``/usr/bin/chromium``), never a browser
downloaded by Playwright. ``make test`` installs it; a missing browser fails, never skips."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.axe import AxeAudit

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch, request):
    # Playwright's sync API runs an event loop in this thread, and while it runs Django's
    # connections are context-local: an in-memory test database would look empty. So the
    # browser is per test and must be requested after the fixtures that write data.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    audit = AxeAudit()
    audit.attach(monkeypatch)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        for context in browser.contexts:
            context.close()  # checks the pages still open
        browser.close()
    if os.environ.get("AXE_VERBOSE"):
        print(f"\n{request.node.nodeid}: axe checked {audit.checked}")  # noqa: T201
    if audit.unchecked:
        print(f"\n{request.node.nodeid}: loaded but not checked by axe: {audit.unchecked}")  # noqa: T201
    if audit.violations:
        pytest.fail(audit.report(), pytrace=False)


@pytest.fixture
def phone(browser):
    """A 360 px wide phone-sized page."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
