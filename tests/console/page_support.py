"""Helpers for the console's page tests (no tests here): the API with its console served
over HTTP on a test database, a real headless Chromium (Debian's ``chromium`` driven by
Playwright), signing in through the sign-in page, and screenshots people can look at.

Screenshots go to $VOLTRENT_SCREENSHOTS when it is set, else into the test's temporary
folder. The browser itself is tests/console/browser_support.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from waitress import wasyncore
from waitress.server import create_server

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database as app_database
from tests.console.browser_support import screenshot_dir

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 860}


@dataclass(frozen=True)
class Console:
    url: str  # http://127.0.0.1:PORT, without a trailing slash
    database: str


@contextmanager
def serve_console(database_url: str, **config: object) -> Iterator[Console]:
    """The API and console on a free port of 127.0.0.1, served by waitress in a thread."""
    app = create_app(CloudConfig(database_url=database_url, **config))  # type: ignore[arg-type]
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    port = server.effective_port  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    try:
        yield Console(f"http://127.0.0.1:{port}", database_url)
    finally:
        # closed from inside its own loop (the trigger runs this there): closing the sockets
        # from here could pull one out from under a select() in progress
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[union-attr]
        thread.join(5)
        server.task_dispatcher.shutdown()
        hub = app.extensions.get("voltrent.live")  # the live feed's thread, if a stream ran
        if hub is not None:
            hub.stop()
        app_database(app).close()


def screenshot(page, request: pytest.FixtureRequest, name: str) -> Path:
    """Save what ``page`` shows as ``<name>.png`` into $VOLTRENT_SCREENSHOTS or the test's
    temporary folder; returns its path."""
    target = screenshot_dir(Path(request.getfixturevalue("tmp_path")))
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def sign_in(page, console: Console, login: str, password: str, *, next_path: str = "/") -> None:
    """Sign in through the sign-in page as a person would, and wait to land on ``next_path``
    (or wherever the console sends this account)."""
    page.goto(f"{console.url}/sign-in?next={next_path}")
    page.get_by_label(_label(page, "sign_in.login")).fill(login)
    page.get_by_label(_label(page, "sign_in.password")).fill(password)
    page.get_by_role("button", name=_label(page, "sign_in.submit")).click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def _label(page, key: str) -> str:
    """The text of ``key`` in the page's language (from the catalog the page carries)."""
    return page.evaluate(
        "key => JSON.parse(document.getElementById('catalog').textContent)[key]", key
    )


def words(page, key: str) -> str:
    """The text of message ``key`` in the language ``page`` shows."""
    return _label(page, key)
