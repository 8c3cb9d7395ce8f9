"""axe-core over every page a browser journey visits (WCAG 2.1 A/AA and axe's best practices).

The engine is the ``axe.min.js`` that axe-playwright-python ships (MPL-2.0); it is injected
into the page, so nothing is fetched at run time. ``AxeAudit.attach`` patches Playwright's sync
``Page`` for one test: after ``goto``, ``reload``, ``go_back``, ``wait_for_load_state`` and
``wait_for_url`` (the calls a journey makes once a page has arrived), before the journey's next
call on the page (a click that navigated without a wait), and before a page or its context is
closed, a page that has loaded since its last check is checked. A page that loaded but was left
before any of those calls is recorded in ``unchecked``, so a journey that skips pages shows up.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

# The failing impacts; "moderate" and "minor" findings are reported by axe but do not fail.
FAILING = frozenset({"serious", "critical"})
# Findings accepted on purpose, each with its reason: rule -> (URL fragment, why).
ACCEPTED = {
    "meta-refresh": (
        "/check-in-screen/",
        "a wall display at the centre that nobody operates; its QR code must change every 30 s "
        "so a photo of it cannot be used later (WCAG 2.2.1, essential exception)",
    ),
}
CHECKED_AFTER = ("goto", "reload", "go_back", "wait_for_load_state", "wait_for_url")
# A page that loaded after a click (without a wait) is checked before the journey's next call.
CHECKED_BEFORE = (
    "click",
    "fill",
    "check",
    "select_option",
    "set_input_files",
    "press",
    "inner_text",
    "text_content",
    "get_attribute",
    "is_visible",
    "is_hidden",
    "is_checked",
    "input_value",
    "eval_on_selector",
    "eval_on_selector_all",
    "evaluate",
    "wait_for_selector",
    "wait_for_function",
    "wait_for_timeout",
    "screenshot",
    "content",
    "locator",
    "get_by_role",
    "get_by_text",
    "expect_download",
)


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    url: str
    targets: tuple[str, ...]
    help: str

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} on {self.url}: {', '.join(self.targets)} ({self.help})"


SETTLE = """Promise.race([
  Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null))),
  new Promise(resolve => setTimeout(resolve, 3000)),
])"""


def _describe(node: dict) -> str:
    """The element's selector and markup, and why it failed (e.g. the colours measured)."""
    why = next((check["message"] for check in node["any"] + node["all"] if check["message"]), "")
    return f"{' '.join(map(str, node['target']))} {node['html'][:120]} [{why[:160]}]".strip()


def run_axe(page: Page) -> list[Violation]:
    """Serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    # The page at rest: a message still fading in would be measured at half its contrast.
    page.evaluate(SETTLE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for rule in result["violations"]:
        if rule["impact"] not in FAILING:
            continue
        accepted = ACCEPTED.get(rule["id"])
        if accepted is not None and accepted[0] in page.url:
            continue
        targets = tuple(_describe(node) for node in rule["nodes"])
        found.append(Violation(rule["id"], rule["impact"], page.url, targets[:8], rule["help"]))
    return found


@dataclass
class AxeAudit:
    base_url: str = ""
    violations: list[Violation] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    _pending: dict[Any, str] = field(default_factory=dict)
    _running: bool = False

    def _on_load(self, page: Page) -> None:
        # Only record here: a page event handler must not drive the page.
        if page in self._pending and self._pending[page] != page.url:
            self.unchecked.append(self._pending[page])
        self._pending[page] = page.url

    def watch(self, page: Page) -> None:
        page.on("load", self._on_load)

    def check(self, page: Page) -> None:
        if self._running:  # run_axe's own calls on the page
            return
        url = self._pending.pop(page, None)
        if url is None or not page.url.startswith(("http://", "https://")):
            return
        self._running = True
        try:
            found = run_axe(page)
        except PlaywrightError:
            # Left while being checked (a redirect or a script navigation): the next page
            # arrives with its own load event and is checked then.
            return
        finally:
            self._running = False
        self.checked.append(page.url)
        self.violations.extend(v for v in found if v not in self.violations)

    def attach(self, monkeypatch) -> None:
        audit = self

        def after(name):
            original = getattr(Page, name)

            def wrapped(page, *args, **kwargs):
                result = original(page, *args, **kwargs)
                audit.check(page)
                return result

            return wrapped

        def before(name):
            original = getattr(Page, name)

            def wrapped(page, *args, **kwargs):
                audit.check(page)
                return original(page, *args, **kwargs)

            return wrapped

        for name in CHECKED_AFTER:
            monkeypatch.setattr(Page, name, after(name))
        for name in CHECKED_BEFORE:
            monkeypatch.setattr(Page, name, before(name))

        page_close = Page.close

        def close_page(page, *args, **kwargs):
            with contextlib.suppress(PlaywrightError):
                audit.check(page)
            return page_close(page, *args, **kwargs)

        context_close = BrowserContext.close

        def close_context(context, *args, **kwargs):
            for page in context.pages:
                with contextlib.suppress(PlaywrightError):
                    audit.check(page)
            return context_close(context, *args, **kwargs)

        new_context = Browser.new_context

        def new_watched_context(browser, *args, **kwargs):
            context = new_context(browser, *args, **kwargs)
            context.on("page", audit.watch)  # every page, popups too
            return context

        new_page = Browser.new_page

        def new_watched_page(browser, *args, **kwargs):
            page = new_page(browser, *args, **kwargs)
            audit.watch(page)
            return page

        monkeypatch.setattr(Page, "close", close_page)
        monkeypatch.setattr(BrowserContext, "close", close_context)
        monkeypatch.setattr(Browser, "new_context", new_watched_context)
        monkeypatch.setattr(Browser, "new_page", new_watched_page)

    def report(self) -> str:
        lines = [str(v) for v in self.violations]
        return f"{len(lines)} serious or critical accessibility violation(s):\n" + "\n".join(lines)
