"""Fixtures of the console's page tests: a browser per worker, a fresh context per test, and
the console served on the test's database."""

from __future__ import annotations

import pytest

from tests.console.page_support import DESKTOP, chromium_or_skip, serve_console


# Per module, not per session: while Playwright's sync API runs, the worker's thread has a
# running event loop, and every later test of that worker calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def console(database):
    with serve_console(database) as console:
        yield console


@pytest.fixture
def page(browser):
    """A page of a fresh browser context (no cookies), in English at desktop size; a test
    wanting Chinese or a phone makes its own context."""
    context = browser.new_context(locale="en-GB", viewport=DESKTOP)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.errors = errors  # the page's script errors and console errors, for tests to assert
    try:
        yield page
    finally:
        context.close()
