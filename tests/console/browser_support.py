"""Headless Chromium for the console's tests (no tests here): Debian's /usr/bin/chromium
driven by Playwright, a fresh context (cookies, storage) per page a test opens."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# a phone as Playwright describes it, with Chromium's engine (the store staff's case)
PHONE = "Pixel 7"


def chromium_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not Path(CHROMIUM).exists():
        return (
            f"no {CHROMIUM}: ./run-tests installs Debian's chromium and fonts-noto-cjk when"
            " it runs as root; here it could not (apt-get install chromium fonts-noto-cjk)"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: VOLTRENT_EXTRAS=dev bash scripts/bootstrap.sh"
    return None


class Browsing:
    """A test's use of the worker's browser: each page in a context of its own, all closed
    after the test; screenshots into ``shots`` for people to look at."""

    def __init__(self, playwright: Any, browser: Any, shots: Path) -> None:
        self.playwright = playwright
        self.browser = browser
        self.shots = shots
        self.contexts: list[Any] = []

    def page(self, **context_options: Any) -> Any:
        """A new page in a fresh context (Playwright's ``new_context`` options, e.g.
        ``locale="zh-CN"``, ``viewport={...}``)."""
        context = self.browser.new_context(**context_options)
        self.contexts.append(context)
        return context.new_page()

    def new_context(self, **context_options: Any) -> Any:
        """A fresh context (closed after the test), for a test that opens several pages."""
        context = self.browser.new_context(**context_options)
        self.contexts.append(context)
        return context

    def new_page(self, **context_options: Any) -> Any:
        """The same as ``page`` (Playwright's name for it)."""
        return self.page(**context_options)

    def phone_page(self, **context_options: Any) -> Any:
        """A new page as on a phone: its screen, touch and user agent."""
        return self.page(**{**self.playwright.devices[PHONE], **context_options})

    def screenshot(self, page: Any, name: str, *, full_page: bool = True) -> Path:
        """Save the page (the whole of it, or what the window shows) as ``<name>.png``; the
        file's path."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def screenshot_dir(default: Path) -> Path:
    """$VOLTRENT_SCREENSHOTS, or ``default`` (the test's own temporary directory)."""
    return Path(os.environ.get("VOLTRENT_SCREENSHOTS") or default)
