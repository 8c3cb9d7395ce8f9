# The lesson-video browser test drives the same phone-sized Chromium as tests/browser.
from tests.browser.conftest import browser, phone  # noqa: F401
