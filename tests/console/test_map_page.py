"""The live map in a real Chromium: every device of the caller's scope and no other, a
marker that moves when its position is committed in the store, the popup and its link to
the device page, the side list's search and filters, both languages and a phone's width."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import psycopg
import pytest
from playwright.sync_api import expect

from tests.cloud.alarm_support import add_alarm
from tests.console.fleet_support import DEVICES, PASSWORD, make_fleet, move
from tests.console.page_support import PHONE, screenshot, sign_in, words

WAIT_MS = 20_000  # generous: the tests wait for what they expect, never for a fixed time


def listed(page) -> list[str]:
    """The device ids the side list shows (its rows in view)."""
    return page.locator("#map-rows li").evaluate_all("rows => rows.map(r => r.dataset.id)")


def open_map(page, console, login: str) -> None:
    sign_in(page, console, login, PASSWORD, next_path="/map")
    page.wait_for_function("() => window.voltrentMap && window.voltrentMap.firstDraw !== null")


def script_errors(page) -> list[str]:
    return [e for e in page.errors if "401" not in e]


def test_each_account_sees_the_devices_of_its_own_scope(page, console, request):
    fleet = make_fleet(console.database)
    open_map(page, console, fleet.a1_login)
    assert sorted(listed(page)) == ["sub-1", "sub-2"]  # the sub-operator's own only
    expect(page.locator("#map-count")).to_have_text("2 of 2 devices")
    screenshot(page, request, "map-sub-operator")

    page.context.clear_cookies()
    open_map(page, console, fleet.a_login)
    assert sorted(listed(page)) == sorted(DEVICES)  # A sees its sub-operator's too
    expect(page.locator("#map-count")).to_have_text(f"{len(DEVICES)} of {len(DEVICES)} devices")
    assert script_errors(page) == []


def test_a_marker_moves_when_its_position_is_committed(page, console, request):
    fleet = make_fleet(console.database)
    open_map(page, console, fleet.a_login)
    page.locator("#map-rows li[data-id='pk-mid'] button").click()  # centres and opens it
    popup = page.locator(".leaflet-popup .device-popup")
    expect(popup).to_contain_text("pk-mid")
    expect(popup).to_contain_text("35 %")
    link = popup.get_by_role("link", name=words(page, "map.popup.open"))
    expect(link).to_have_attribute("href", "/devices/pk-mid")
    page.wait_for_function(  # the popup has faded in
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    screenshot(page, request, "map-popup-en")
    before = page.evaluate("window.voltrentMap.drawnAt('pk-mid')")
    assert before is not None  # zoomed in: drawn on its own, not in a cluster
    popup_at = page.locator(".leaflet-popup").bounding_box()

    move(console.database, "pk-mid", before[0] + 0.001, before[1] + 0.001)
    page.wait_for_function(
        "([lat, lon]) => { const at = window.voltrentMap.drawnAt('pk-mid');"
        " return at && Math.abs(at[0] - lat) < 1e-9 && Math.abs(at[1] - lon) < 1e-9; }",
        arg=[before[0] + 0.001, before[1] + 0.001],
        timeout=WAIT_MS,
    )
    moved_at = page.locator(".leaflet-popup").bounding_box()
    assert (moved_at["x"], moved_at["y"]) != (popup_at["x"], popup_at["y"])  # the popup went too
    expect(page.locator("#live-state")).to_have_text(words(page, "live.on"))

    assert script_errors(page) == []
    link.click()  # the device page (another page of the console) is where it leads
    page.wait_for_url(re.compile(r"/devices/pk-mid$"))


def test_a_device_transferred_away_leaves_the_map(page, console):
    fleet = make_fleet(console.database)
    open_map(page, console, fleet.a1_login)
    expect(page.locator("#map-count")).to_have_text("2 of 2 devices")
    with psycopg.connect(console.database, autocommit=True) as conn:  # as a transfer does
        conn.execute("UPDATE device SET operator_id = %s WHERE id = 'sub-2'", (fleet.a,))
    expect(page.locator("#map-count")).to_have_text("1 of 1 devices", timeout=WAIT_MS)
    assert listed(page) == ["sub-1"]
    assert script_errors(page) == []


def test_search_and_filters_narrow_the_list(page, console):
    fleet = make_fleet(console.database)
    add_alarm(console.database, "pk-low", "soc_low", datetime.now(UTC), severity="critical")
    open_map(page, console, fleet.a_login)

    page.get_by_label(words(page, "map.filter.search")).fill("pk-")
    expect(page.locator("#map-count")).to_have_text("4 of 6 devices")
    page.get_by_label(words(page, "map.filter.model")).select_option("M72")
    expect(page.locator("#map-count")).to_have_text("2 of 6 devices")
    assert sorted(listed(page)) == ["pk-low", "pk-off"]
    page.get_by_label(words(page, "map.filter.online")).select_option("offline")
    expect(page.locator("#map-count")).to_have_text("1 of 6 devices")
    assert listed(page) == ["pk-off"]

    page.get_by_label(words(page, "map.filter.online")).select_option("")
    page.get_by_label(words(page, "map.filter.model")).select_option("")
    page.get_by_label(words(page, "map.filter.search")).fill("")
    expect(page.locator("#map-count")).to_have_text("6 of 6 devices")
    page.get_by_label(words(page, "map.filter.alarm")).select_option("critical")
    expect(page.locator("#map-count")).to_have_text("1 of 6 devices")
    assert listed(page) == ["pk-low"]
    page.get_by_label(words(page, "map.filter.alarm")).select_option("")
    expect(page.locator("#map-count")).to_have_text("6 of 6 devices")
    store = page.get_by_label(words(page, "map.filter.store"), exact=True)
    store.select_option(label="West Lake shop")
    expect(page.locator("#map-count")).to_have_text("2 of 6 devices")
    assert sorted(listed(page)) == ["pk-high", "pk-mid"]

    # the list by keyboard: Tab to the first row, arrow down, Enter opens its popup
    page.locator("#map-rows li button").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup .device-popup")).to_contain_text("pk-mid")
    page.keyboard.press("Escape")
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    assert script_errors(page) == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_map_in_both_languages_on_a_phone(browser, console, request, locale):
    fleet = make_fleet(console.database)
    context = browser.new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_map(page, console, fleet.a_login)
        expect(page.locator("#map-list-title")).to_have_text(words(page, "map.list.title"))
        if locale == "zh-CN":
            expect(page.locator("#map-list-title")).to_have_text("设备列表")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        map_box = page.locator("#map").bounding_box()
        list_box = page.locator("#map-list").bounding_box()
        assert list_box["y"] >= map_box["y"] + map_box["height"]  # folded under the map
        screenshot(page, request, f"map-phone-{locale}")
        page.locator("#map-rows li button").first.click()
        expect(page.locator(".leaflet-popup .device-popup")).to_be_visible()
        page.wait_for_function(  # the popup fades in and the map pans to fit it
            "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
        screenshot(page, request, f"map-phone-popup-{locale}")
        assert errors == []
    finally:
        context.close()
