"""The dashboard's tests share the browser fixtures of tests/browser (Debian's
Chromium driven by Playwright, a logged-in page)."""

from browser.conftest import browser_page, chromium_browser, screenshot  # noqa: F401
