"""The fleet overview in a real Chromium: its numbers are the store's (connectivity, charge
state, discharge cut off, SOC bands, open alarms by severity, devices per store), for the
caller's scope only, in both languages and on a phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.cloud.alarm_support import add_alarm
from tests.console.fleet_support import PASSWORD, make_fleet
from tests.console.page_support import PHONE, screenshot, sign_in, words


def number(page, card: str, label_key: str) -> str:
    """The number the card ``card`` shows on the row labelled ``label_key``."""
    header = page.get_by_role("rowheader", name=words(page, label_key), exact=True)
    row = page.locator(f"#{card} tr").filter(has=header)
    return row.locator("td.num").inner_text()


def test_the_numbers_are_the_stores(page, console, request):
    fleet = make_fleet(console.database)
    now = datetime.now(UTC)
    add_alarm(console.database, "pk-low", "soc_low", now, severity="critical")
    add_alarm(console.database, "pk-mid", "cell_high", now, severity="warning")
    add_alarm(console.database, "pk-off", "offline", now, severity="warning")
    add_alarm(console.database, "pk-high", "temp", now, severity="info", state="resolved")
    sign_in(page, console, fleet.a_login, PASSWORD, next_path="/overview")
    expect(page.locator("#overview-total")).to_have_text("6 devices in all")
    # make_fleet: 4 online, 2 offline; charging pk-high; discharging pk-mid and sub-1;
    # idle pk-off; no BMS current pk-low and sub-2; pk-low cut off
    expected = {
        "ov-connectivity": {
            "overview.online": "4",
            "overview.offline": "2",
            "overview.never_seen": "0",
        },
        "ov-state": {
            "overview.charging": "1",
            "overview.discharging": "2",
            "overview.idle": "1",
            "overview.no_bms_data": "2",
            "overview.cut_off": "1",
        },
        "ov-soc": {
            "overview.soc_below_20": "2",
            "overview.soc_20_50": "1",
            "overview.soc_50_80": "2",
            "overview.soc_80": "1",
        },
        "ov-alarms": {"overview.critical": "1", "overview.warning": "2", "overview.info": "0"},
    }
    for card, rows in expected.items():
        for key, value in rows.items():
            assert number(page, card, key) == value, (card, key)
    shop = page.locator("#ov-stores tr").filter(has_text="West Lake shop")
    expect(shop.locator("td.num")).to_have_text("2")
    screenshot(page, request, "overview-en")

    # the sub-operator's account: its own two devices only
    page.context.clear_cookies()
    sign_in(page, console, fleet.a1_login, PASSWORD, next_path="/overview")
    expect(page.locator("#overview-total")).to_have_text("2 devices in all")
    assert number(page, "ov-connectivity", "overview.online") == "1"
    assert number(page, "ov-alarms", "overview.warning") == "0"
    assert [e for e in page.errors if "401" not in e] == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_overview_in_both_languages_on_a_phone(browser, console, request, locale):
    fleet = make_fleet(console.database)
    context = browser.new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, console, fleet.a_login, PASSWORD, next_path="/overview")
        expect(page.locator("#ov-soc table")).to_be_visible()
        if locale == "zh-CN":
            expect(page.locator("#overview-total")).to_have_text("共 6 台设备")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, request, f"overview-phone-{locale}")
    finally:
        context.close()
