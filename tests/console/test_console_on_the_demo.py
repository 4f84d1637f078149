"""The console against the running demo, as its people use it (issue 15's acceptance list).

- An administrator signs in and finds every demo device on the map.
- A riding pack's marker moves.
- The administrator cuts a parked pack's discharge from its device page and sees `done`
  with the MOSFET state the gateway observed, then restores it.
- The administrator resolves the alarm the nearly empty pack raised.
- The rental company's administrator draws a fence and assigns a device to it, and its map
  shows only the company's devices.
- A store's staff uses the store page on a 360x740 phone and cuts a pack's power after
  confirming, seeing the pack's answer arrive.
- Every page renders in Chinese and in English with no message key left showing.

These tests share the one demo of the session (tests/console/demo_support.py). Each test
picks devices the others do not touch. The map and device pictures in the README are the
screenshots taken here (VOLTRENT_SCREENSHOTS=docs/images).
"""

from __future__ import annotations

import contextlib
import re
import uuid

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from cloud.console import i18n
from cloud.console.pages import built
from cloud.identity.permissions import PERMISSIONS
from tests.console.page_support import DESKTOP, PHONE, Console, sign_in, words

WAIT_MS = 90_000  # the demo's packs report every second; waits end on what they expect


def console_of(demo) -> Console:
    return Console(demo.base_url.rstrip("/"), demo.database_url)


def open_as(browser, demo, key: str, path: str, *, locale="en-GB", viewport=DESKTOP):
    """A page signed in as ``demo.accounts[key]`` through the sign-in form, at ``path``."""
    page = browser.page(locale=locale, viewport=viewport)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    account = demo.accounts[key]
    sign_in(page, console_of(demo), account.login, account.password, next_path=path)
    return page


def parked(demo) -> list[str]:
    """The packs standing still from the start (launcher/sim.py: every second one), leaving
    out the one whose lease ran out and the nearly empty one."""
    ids = sorted(demo.devices)
    return [d for n, d in enumerate(ids) if n % 2 and d not in (*demo.expired_lease, demo.low_soc)]


def open_map(page) -> None:
    page.wait_for_function("() => window.voltrentMap && window.voltrentMap.firstDraw !== null")


def count_text(page, shown: int, total: int) -> str:
    return words(page, "map.count").format(shown=shown, total=total)


def test_every_demo_device_is_on_the_map_and_a_riding_one_moves(browser, demo):
    page = open_as(browser, demo, "admin", "/map")
    open_map(page)
    every = sorted(demo.devices)
    expect(page.locator("#map-count")).to_have_text(count_text(page, len(every), len(every)))
    search = page.get_by_label(words(page, "map.filter.search"))
    for device_id in every:  # each one by name, as a person would look for it
        search.fill(device_id)
        expect(page.locator("#map-rows li")).to_have_count(1)
        expect(page.locator("#map-rows li")).to_have_attribute("data-id", device_id)
    search.fill("")
    riders = [d for n, d in enumerate(every) if n % 2 == 0]
    page.evaluate("ids => window.voltrentMap.watch(ids)", riders)
    page.wait_for_function("() => window.voltrentMap.moves.length > 0", timeout=WAIT_MS)
    browser.screenshot(page, "console-map", full_page=False)
    assert page.errors == []


def test_a_sub_operators_account_sees_only_its_own_devices(browser, demo):
    page = open_as(browser, demo, "company", "/map")
    open_map(page)
    own = demo.devices_of("company")
    assert len(own) < len(demo.devices)
    expect(page.locator("#map-count")).to_have_text(count_text(page, len(own), len(own)))
    search = page.get_by_label(words(page, "map.filter.search"))
    for device_id in sorted(set(demo.devices) - set(own)):
        search.fill(device_id)
        expect(page.locator("#map-count")).to_have_text(count_text(page, 0, len(own)))
    assert page.errors == []


def test_cut_discharge_from_the_device_page_and_see_done_with_the_observed_mosfet(browser, demo):
    device_id = parked(demo)[0]
    page = open_as(browser, demo, "admin", f"/devices/{device_id}")
    page.locator("#cells li").first.wait_for()  # the BMS is in
    browser.screenshot(page, "console-device", full_page=False)
    cut = page.get_by_role("button", name=words(page, "device.cmd.discharge_off"))
    cut.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "device.reason")).fill("acceptance test")
    dialog.get_by_role("button", name=words(page, "device.cmd.discharge_off")).click()
    life = page.locator("#following .command-life").first
    page.locator('#following .command-life[data-state="done"]').wait_for(timeout=WAIT_MS)
    assert life.locator('dd[data-key="discharge_mos"]').inner_text() == words(page, "device.off")
    browser.screenshot(page, "console-device-command", full_page=False)
    with demo.store() as conn:
        command = conn.execute(
            "SELECT state, observed->>'discharge_mos' FROM command WHERE device_id = %s"
            " AND type = 'set_discharge' ORDER BY created_at DESC LIMIT 1",
            (device_id,),
        ).fetchone()
    assert command == ("done", "false")
    # and back on, so the demo is left as it was
    page.get_by_role("button", name=words(page, "device.cmd.discharge_on")).click()
    dialog = page.get_by_role("dialog")
    if dialog.count():
        dialog.get_by_role("button", name=words(page, "device.cmd.discharge_on")).click()
    page.locator('#following .command-life[data-state="done"]').nth(0).wait_for(timeout=WAIT_MS)
    assert page.errors == []


def test_resolve_the_alarm_the_nearly_empty_pack_raised(browser, demo):
    with demo.store() as conn:
        for _ in range(WAIT_MS // 1000):
            row = conn.execute(
                "SELECT id FROM alarm WHERE device_id = %s AND state <> 'resolved'"
                " ORDER BY id LIMIT 1",
                (demo.low_soc,),
            ).fetchone()
            if row:
                break
            conn.execute("SELECT pg_sleep(1)")
    assert row, f"{demo.low_soc} raised no alarm"
    page = open_as(browser, demo, "admin", f"/alarms/{row[0]}")
    page.get_by_role("link", name=demo.low_soc).first.wait_for()
    page.get_by_label(words(page, "alarms.resolve.note")).fill("swapped for a charged pack")
    page.locator("#resolve").get_by_role("button", name=words(page, "alarm.resolve")).click()
    page.get_by_text(words(page, "alarm.resolved")).wait_for()
    with demo.store() as conn:
        stored = conn.execute(
            "SELECT state, resolution_note FROM alarm WHERE id = %s", (row[0],)
        ).fetchone()
    assert stored == ("resolved", "swapped for a charged pack")
    assert page.errors == []


def test_draw_a_fence_and_assign_a_device(browser, demo):
    name = f"验收围栏 {uuid.uuid4().hex[:6]}"
    device_id = demo.devices_of("company")[0]
    page = open_as(browser, demo, "company", "/geofences")
    page.locator("#fences tbody tr").first.wait_for()  # the page has loaded the company's fence
    page.get_by_role("button", name=words(page, "geofences.draw_polygon")).click()
    box = page.locator("#fence-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-100, -70), (100, -70), (110, 80), (-90, 90)):
        page.mouse.click(x + dx, y + dy)
    expect(page.locator("#draw-state")).to_have_text(
        words(page, "geofences.drawing_polygon").replace("{n}", "4")
    )
    page.get_by_role("button", name=words(page, "geofences.draw_finish")).click()
    page.get_by_label(words(page, "geofences.name")).fill(name)
    page.get_by_role("button", name=words(page, "geofences.save")).click()
    expect(page.locator("#detail-title")).to_have_text(name)
    page.get_by_label(words(page, "geofences.device_ids")).fill(device_id)
    page.get_by_role("button", name=words(page, "geofences.assign_button"), exact=True).click()
    expect(page.locator("#fences tbody tr").filter(has_text=name)).to_contain_text("1")
    with demo.store() as conn:
        assigned = conn.execute(
            "SELECT array_agg(a.device_id) FROM geofence g JOIN geofence_assignment a"
            " ON a.geofence_id = g.id WHERE g.name = %s",
            (name,),
        ).fetchone()[0]
    assert assigned == [device_id]
    assert page.errors == []


def test_a_store_account_on_a_phone_cuts_a_packs_power_and_sees_the_answer(browser, demo):
    # a parked pack of one of the two stores, not the device page's
    key, own, target = next(
        (key, demo.devices_of(key), d)
        for key in ("keji", "houhai")
        for d in parked(demo)[1:]
        if d in demo.devices_of(key)
    )
    page = open_as(browser, demo, key, "/store", locale="zh-CN", viewport=PHONE)
    page.locator(".pack").first.wait_for()
    assert sorted(page.locator(".pack .pack-id").all_inner_texts()) == own
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for overdue in sorted(set(demo.expired_lease) & set(own)):  # its lease ran out: 已逾期
        card = page.locator(".pack").filter(has=page.locator(".pack-id", has_text=overdue))
        expect(card).to_contain_text(words(page, "store.lease_expired"))
    browser.screenshot(page, "console-store-phone")
    find = page.get_by_label(words(page, "store.find"))
    find.fill(target)
    find.press("Enter")
    expect(page.locator(".pack .pack-id")).to_have_text([target])
    page.locator(".pack").get_by_role("button", name=words(page, "store.cut")).click()
    page.get_by_role("dialog").get_by_role("button", name=words(page, "store.cut")).click()
    status = page.get_by_role("status").filter(has_text=target)
    status.get_by_text(words(page, "store.command.done")).wait_for(timeout=WAIT_MS)
    assert page.errors == []


# Pages whose path needs an object: filled with one of the demo's.
def page_path(page_row, demo) -> str | None:
    if "<device_id" in page_row.path:
        return f"/devices/{sorted(demo.devices)[0]}"
    if "<int:alarm_id>" in page_row.path:
        with demo.store() as conn:
            row = conn.execute("SELECT id FROM alarm ORDER BY id LIMIT 1").fetchone()
        return f"/alarms/{row[0]}" if row else None
    return page_row.path


KEY = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_page_renders_in_both_languages_with_no_key_showing(browser, demo, language):
    keys = set(i18n.catalog("en")) - set(PERMISSIONS)  # a role's page lists permission names
    locale = "en-GB" if language == "en" else language
    page = open_as(browser, demo, "admin", "/account", locale=locale)
    for row in built():
        path = page_path(row, demo)
        if path is None or row.name == "sign_in":
            continue
        page.goto(f"{demo.base_url.rstrip('/')}{path}")
        # a page that follows a live stream never falls quiet: its data is in by then
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=5_000)
        assert page.locator("html").get_attribute("lang") == language
        text = page.locator("body").inner_text()
        showing = sorted(set(KEY.findall(text)) & keys)
        assert showing == [], f"{path} shows message keys: {showing}"
    assert [e for e in page.errors if "status of 401" not in e] == []
