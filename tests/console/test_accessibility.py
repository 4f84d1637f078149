"""Every page of the console checked by axe-core (the accessibility engine browsers' own
tools use) against WCAG 2 A and AA, on the running demo's data: labelled inputs and
buttons, readable contrast, landmarks and names a screen reader can announce. A serious or
critical finding fails the test with the rule, the element and what axe says to fix.

axe-core is a test tool here, not part of the console: it comes from the console's npm
devDependencies and is put into the page under test only (a context that bypasses the
Content-Security-Policy for that one script)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cloud.console import assets
from cloud.console.pages import built
from tests.console.page_support import DESKTOP, PHONE, sign_in
from tests.console.test_console_on_the_demo import console_of, page_path

AXE = assets.NODE_MODULES / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def findings(page) -> list[dict]:
    """axe's serious and critical WCAG 2 A/AA violations on what ``page`` shows now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "where": [n["target"] for n in v["nodes"][:3]],
            "fix": v["nodes"][0]["failureSummary"][:300],
        }
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", DESKTOP), ("zh-CN", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_every_page_passes_wcag_a_and_aa(browser, demo, language, viewport):
    if not Path(AXE).exists():
        pytest.fail("axe-core is missing: npm ci in cloud/console (scripts/bootstrap.sh)")
    locale = "en-GB" if language == "en" else language
    page = browser.page(locale=locale, viewport=viewport, bypass_csp=True)
    page.goto(f"{demo.base_url}sign-in")
    found = {"/sign-in": findings(page)}
    account = demo.accounts["admin"]
    sign_in(page, console_of(demo), account.login, account.password, next_path="/account")
    for row in built():
        path = page_path(row, demo)
        if path is None or row.name in ("sign_in", "home"):
            continue
        page.goto(f"{demo.base_url.rstrip('/')}{path}")
        with contextlib.suppress(PlaywrightTimeout):  # pages with a live stream never idle
            page.wait_for_load_state("networkidle", timeout=5_000)
        found[path] = findings(page)
    report = [
        f"{path}: {f['rule']} ({f['impact']}) at {f['where']}: {f['fix']}"
        for path, page_findings in found.items()
        for f in page_findings
    ]
    assert report == [], "\n".join(report)
