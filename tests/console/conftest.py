"""Fixtures of the console's browser tests.

- ``demo``: the session's one running demo, shared by every worker
  (tests/console/demo_support.py), for the tests "against a running demo".
- ``console``: the API and console served on the test's own ``database``
  (tests/console/page_support.py), for page tests that build their own data.
- ``browser``: fresh contexts and pages of a headless Chromium, with screenshots
  (tests/console/browser_support.py); ``page``: one such page in English at desktop size.
A test using ``browser`` (or ``page``) is marked ``browser`` (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.console.browser_support import CHROMIUM, Browsing, chromium_missing, screenshot_dir
from tests.console.demo_support import RunningDemo, SharedDemo
from tests.console.page_support import DESKTOP, serve_console


@pytest.fixture(scope="session")
def demo(tmp_path_factory, worker_id, pg_server) -> Iterator[RunningDemo]:
    """The demo every worker of the session shares (started by the first one to ask)."""
    # the xdist docs' way to share a session fixture: the workers' common parent directory
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent
    shared = SharedDemo(root, pg_server)
    running = shared.join()
    yield running
    shared.leave()


@pytest.fixture(scope="module")
def _chromium():
    """One headless Chromium per test module (its tests run together on one worker).

    Not one per worker: while Playwright's sync API is open, its event loop counts as
    running in the worker's thread, so any other module's test on that worker calling
    asyncio.run() would fail ("cannot be called from a running event loop")."""
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield playwright, browser
        browser.close()


@pytest.fixture
def browser(_chromium, tmp_path):
    """Pages in fresh contexts of the module's Chromium, closed after the test;
    ``browser.screenshot(page, name)`` saves into $VOLTRENT_SCREENSHOTS or tmp_path."""
    playwright, chromium = _chromium
    browsing = Browsing(playwright, chromium, screenshot_dir(tmp_path))
    yield browsing
    browsing.close()


@pytest.fixture
def console(database):
    with serve_console(database) as console:
        yield console


@pytest.fixture
def page(browser):
    """A page of a fresh context (no cookies), in English at desktop size, whose
    ``errors`` collects its script errors and console errors for the test to assert."""
    page = browser.page(locale="en-GB", viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.errors = errors
    return page
