"""The device page in a real Chromium: the BMS figures and cell bars match the store, the
charts draw for a range, the day's trajectory replays, the buttons follow the caller's
permissions, both languages and a phone's width; and a power cut issued from the page runs
the real loop (the worker's dispatcher, Mosquitto, a simulated gateway with its JBD BMS) to
`done` with the MOSFET state the gateway observed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import expect

from tests.cloud.api_support import add_device, insert_bms, insert_position, set_state
from tests.cloud.tenancy_support import (
    PASSWORD,
    PLATFORM,
    make_account,
    make_operator,
    make_role,
    make_store,
)
from tests.console.page_support import DESKTOP, PHONE, screenshot, serve_console, sign_in, words

pytestmark = [pytest.mark.postgres]

DEVICE = "pack-7"
LOGIN = "ops@a.test"
CELLS = [3.301, 3.312, 3.297, 3.305, 3.309, 3.284, 3.300, 3.306]  # cell 6 lowest, cell 2 highest
# yesterday: the store keeps day partitions from yesterday on
TRIP_DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)


def _trip(conn: psycopg.Connection) -> None:
    """10 min east at 36 km/h (a fix every 10 s), 5 min parked, 10 min east again: 12 km."""
    lat, lon = 30.27, 120.10
    step = 100 / (METRES_PER_DEGREE * 0.8637)  # 100 m east at 30.27° N
    time = TRIP_DAY + timedelta(hours=10)
    seq = 0
    legs = [(60, 36.0), (30, 0.0), (60, 36.0)]
    insert_position(conn, DEVICE, time, seq, lat=lat, lon=lon, speed_kmh=0.0)
    for fixes, speed in legs:
        for _ in range(fixes):
            seq += 1
            time += timedelta(seconds=10)
            lon += step if speed else 0.0
            insert_position(conn, DEVICE, time, seq, lat=lat, lon=lon, speed_kmh=speed)


@pytest.fixture
def pack(database):
    """Operator A's pack-7 in its shop: a day of BMS samples every 10 min, the latest in the
    device's state, and a trip on TRIP_DAY; an administrator of A who signs in."""
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(database, autocommit=True) as conn:
        operator = make_operator(conn, "Operator A")
        store = make_store(conn, operator, "West Lake shop")
        add_device(
            conn, DEVICE, operator_id=operator, store_id=store, model="JBD-8S", name="Pack 7"
        )
        for n in range(144, -1, -1):
            at = now - timedelta(minutes=10 * n)
            insert_bms(conn, DEVICE, at, seq=1000 - n, soc_percent=80 - n / 10,
                       pack_voltage_v=26.4 - n / 100, cell_voltages_v=CELLS,
                       temperatures_c=[24.5, 26.0], balancing=[1, 4], protection=[])  # fmt: skip
        set_state(conn, DEVICE, online=True, last_seen_at=now, bms_time=now, soc_percent=80.0,
                  pack_voltage_v=26.4, current_a=-3.25, cell_voltages_v=CELLS,
                  temperatures_c=[24.5, 26.0], charge_mos=True, discharge_mos=True,
                  remaining_ah=32.5, full_capacity_ah=40.0, cycles=123, protection=[])  # fmt: skip
        _trip(conn)
        make_account(conn, operator, LOGIN, password=PASSWORD)
        return operator


def _open(page, console, login: str = LOGIN) -> None:
    page.not_found = []  # the URLs answered 404
    page.on("response", lambda r: page.not_found.append(r.url) if r.status == 404 else None)
    sign_in(page, console, login, PASSWORD, next_path=f"/devices/{DEVICE}")
    page.locator("#cells li").first.wait_for()


def _script_errors(page) -> list[str]:
    """The page's errors, but for 401s (signing in) and the browser's note of a 404 when
    the only 404s were the lease (a pack with no term yet has none: the page says so)."""
    lease_only = all(url.endswith("/lease") for url in getattr(page, "not_found", []))
    return [
        e
        for e in page.errors
        if "status of 401" not in e and not ("status of 404" in e and lease_only)
    ]


def test_the_bms_now_and_its_cell_bars_match_the_store(page, console, pack, request):
    _open(page, console)
    facts = page.locator("#bms-facts")
    assert "80 %" in facts.inner_text() and "26.40 V" in facts.inner_text()
    assert "-3.25 A" in facts.inner_text() and "123" in facts.inner_text()
    cells = page.locator("#cells li")
    assert cells.count() == len(CELLS)
    shown = [float(v) for v in cells.evaluate_all("items => items.map(i => i.dataset.volts)")]
    assert shown == CELLS
    assert page.locator("#cells li.low").get_attribute("data-cell") == "6"
    assert page.locator("#cells li.high").get_attribute("data-cell") == "2"
    assert "28 mV" in page.locator("#cell-summary").inner_text()  # 3.312 - 3.284
    # the store's balancing (cells 2 and 5, zero-based 1 and 4) is marked on those bars
    balancing = words(page, "device.cell_balancing")
    marked = cells.evaluate_all(
        "(items, word) => items.filter(i => i.innerText.includes(word)).map(i => i.dataset.cell)",
        balancing,
    )
    assert marked == ["2", "5"]
    # the identity names the operator and store, not their numbers
    identity = page.locator("#identity-facts").inner_text()
    assert "Operator A" in identity and "West Lake shop" in identity and "JBD-8S" in identity
    screenshot(page, request, "device-en")
    assert _script_errors(page) == []


def test_the_charts_draw_for_a_chosen_range(page, console, pack, request):
    _open(page, console)
    grid = page.locator("#chart-grid")
    page.locator("#chart-grid figure canvas").first.wait_for()
    assert grid.locator("figure").count() == 5  # SOC, voltage, current, temperature, spread
    assert int(grid.get_attribute("data-points")) == 6  # the last hour: raw, 10 min apart
    page.get_by_label(words(page, "device.range")).select_option("24h")
    page.wait_for_function(
        "() => Number(document.getElementById('chart-grid').dataset.points) > 100"
    )
    assert "300" in page.locator("#chart-note").inner_text()  # 5 min buckets
    # a custom range with its end before its start is refused on the form, naming the field
    page.get_by_label(words(page, "device.range")).select_option("custom")
    page.get_by_label(words(page, "device.from"), exact=True).fill("2026-11-23T12:00")
    page.get_by_label(words(page, "device.to"), exact=True).fill("2026-11-23T11:00")
    page.locator("#chart-range button[type=submit]").click()
    refused = page.locator("#chart-to-error")
    refused.wait_for()
    assert refused.inner_text() == words(page, "device.to_after_from")
    box = page.locator("#chart-grid canvas").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100
    page.locator("#charts").scroll_into_view_if_needed()
    screenshot(page, request, "device-charts")
    assert _script_errors(page) == []


def test_the_days_trajectory_replays_and_sums_up(page, console, pack, request):
    _open(page, console)
    page.get_by_label(words(page, "device.day")).fill(TRIP_DAY.date().isoformat())
    page.locator("#track-day button[type=submit]").click()
    summary = page.locator("#track-summary")
    summary.get_by_text("12.0 km").wait_for()
    text = summary.inner_text()
    assert "20 min" in text and "5 min" in text  # moving, parked
    assert page.locator("#stop-table tbody tr").count() == 1
    head = page.locator("#track-map .playhead")
    start_box = head.bounding_box()
    start_at = page.locator("#track-map").get_attribute("data-head")
    page.get_by_label(words(page, "device.speed")).select_option("1200")
    page.get_by_role("button", name=words(page, "device.play")).click()
    page.wait_for_function(
        "start => document.getElementById('track-map').dataset.head !== start", arg=start_at
    )
    page.get_by_role("button", name=words(page, "device.play")).wait_for()  # the end: paused
    assert page.locator("#play-time").input_value() == page.locator("#play-time").get_attribute(
        "max"
    )
    end_box = head.bounding_box()
    assert start_box and end_box and end_box["x"] > start_box["x"] + 20  # it went east
    page.locator("#trajectory").scroll_into_view_if_needed()
    screenshot(page, request, "device-trajectory")
    assert _script_errors(page) == []


def test_a_caller_without_the_discharge_permission_sees_no_cut_button(
    page, console, pack, database
):
    with psycopg.connect(database, autocommit=True) as conn:
        make_role(conn, pack, "charging staff", ["device.read", "command.read",
                                                 "device.command.charge"])  # fmt: skip
        make_account(conn, pack, "staff@a.test", roles=["charging staff"], password=PASSWORD)
    _open(page, console, "staff@a.test")
    page.get_by_role("button", name=words(page, "device.cmd.charge_off")).wait_for()
    assert page.get_by_role("button", name=words(page, "device.cmd.discharge_off")).count() == 0
    assert page.get_by_role("button", name=words(page, "device.cmd.discharge_on")).count() == 0
    assert page.locator("#lease-form").is_hidden()  # no lease.write either
    assert _script_errors(page) == []


@pytest.mark.parametrize(("locale", "language"), [("zh-CN", "zh-CN"), ("en-GB", "en")])
def test_a_phone_shows_the_page_in_both_languages_without_scrolling_sideways(
    browser, console, pack, request, locale, language
):
    context = browser.new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _open(page, console)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("#bms-title").inner_text() == words(page, "device.bms")
        page.locator("#chart-grid canvas").first.wait_for()
        wide = page.evaluate("document.documentElement.scrollWidth")
        too_wide = page.evaluate(
            """width => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)""",
            PHONE["width"],
        )
        assert wide <= PHONE["width"], f"the page scrolls sideways: {wide} px, {too_wide}"
        screenshot(page, request, f"device-{language}-phone")
        page.locator("#commands").scroll_into_view_if_needed()
        screenshot(page, request, f"device-{language}-phone-commands")
        page.set_viewport_size(DESKTOP)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, request, f"device-{language}-desktop")
        assert errors == []
    finally:
        context.close()


@contextmanager
def _gateway(broker_url: str, work_dir, device_id: str, duty=None) -> Iterator[None]:
    """A simulated gateway (edge agent + JBD BMS on a pty; its vehicle parked unless
    ``duty`` says otherwise) run in its own thread."""
    from tests.integration.control_support import PARKED, control_rig

    ready, stop, failed = threading.Event(), threading.Event(), []

    async def rig() -> None:
        async with control_rig(broker_url, work_dir, duty or PARKED, device_id=device_id):
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)

    def main() -> None:
        try:
            asyncio.run(rig())
        except Exception as error:  # shown by the test instead of a silent thread
            failed.append(error)
            ready.set()

    thread = threading.Thread(target=main, name="gateway", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        assert not failed, failed
        yield
    finally:
        stop.set()
        thread.join(15)


@contextmanager
def _real_loop(page, database, broker, tmp_path, device_id: str, duty=None) -> Iterator[object]:
    """The cloud's worker (ingest and the dispatcher, with the rig's master key), the API
    and console, and a simulated gateway for ``device_id``; the page signed in as the
    platform's administrator on the device's page once the pack is online there."""
    from tests.cloud.worker_support import WorkerProcess, register
    from tests.integration.control_support import MASTER_KEY, cloud_env

    register(database, device_id)
    with psycopg.connect(database, autocommit=True) as conn:
        make_account(conn, PLATFORM, "root-page@platform.test", password=PASSWORD)
    worker = WorkerProcess(database, broker.url, tmp_path / "worker.log")
    worker.env.update(cloud_env())
    worker.start().wait_subscribed()
    try:
        with (
            serve_console(database, command_key=MASTER_KEY) as console,
            _gateway(broker.url, tmp_path, device_id, duty),
        ):
            sign_in(page, console, "root-page@platform.test", PASSWORD,
                    next_path=f"/devices/{device_id}")  # fmt: skip
            _reload_until_online(page, words(page, "device.online"))
            yield console
    finally:
        worker.stop()


def _cut(page, *, emergency: bool = False) -> None:
    page.get_by_role("button", name=words(page, "device.cmd.discharge_off")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "device.reason")).fill("unpaid")
    if emergency:
        dialog.get_by_label(words(page, "device.cut_emergency")).check()
    dialog.get_by_role("button", name=words(page, "device.cmd.discharge_off")).click()


@pytest.mark.broker
def test_cutting_power_from_the_page_reaches_done_with_the_observed_mosfet(
    page, database, broker, tmp_path, request
):
    with _real_loop(page, database, broker, tmp_path, "page-e2e-1"):
        _cut(page)
        life = page.locator("#following .command-life").first
        life.wait_for()
        page.locator('#following .command-life[data-state="done"]').wait_for(timeout=60_000)
        observed = life.locator('dd[data-key="discharge_mos"]')
        assert observed.inner_text() == words(page, "device.off")
        assert life.locator("li.reached").count() == 3  # queued, sent, done
        # the list of recent commands follows (it is read again when a command changes)
        table = page.locator("#command-table tbody tr").first
        expect(table).to_contain_text(words(page, "device.state.done"))
        expect(page.locator("#live-state")).to_have_text(words(page, "live.on"))
        screenshot(page, request, "device-command-done")
        assert _script_errors(page) == []


@pytest.mark.broker
@pytest.mark.slow
def test_a_cut_waits_for_a_riding_vehicle_and_the_page_shows_the_wait(
    page, database, broker, tmp_path, request
):
    from tests.integration.control_support import RIDING

    with _real_loop(page, database, broker, tmp_path, "page-e2e-2", RIDING):
        _cut(page)
        waiting = page.locator("#following .command-life .progress")
        waiting.wait_for(timeout=60_000)  # the gateway's cutoff_waiting, as the command's
        assert "km/h" in waiting.inner_text()
        assert page.locator("#following .command-life").first.get_attribute("data-state") in {
            "queued",
            "sent",
        }
        screenshot(page, request, "device-command-waiting")
        assert _script_errors(page) == []


def _reload_until_online(page, online: str, attempts: int = 60) -> None:
    """The page loads the state when opened (the live stream is another branch's): reload
    until the gateway's first report has made the pack online."""
    for _ in range(attempts):
        badge = page.locator("#online")
        badge.wait_for()
        if badge.inner_text() == online:
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError("the pack never came online")


def test_the_lease_is_set_on_the_page_and_escape_leaves_power_on(page, console, pack):
    _open(page, console)
    facts = page.locator("#lease-facts")
    facts.get_by_text(words(page, "device.no_lease")).wait_for()
    form = page.locator("#lease-form")
    form.get_by_label(words(page, "device.lease_leased"), exact=True).check()
    form.get_by_label(words(page, "device.lease_until"), exact=True).fill("2030-01-31T18:00")
    form.get_by_label(words(page, "device.lease_grace"), exact=True).fill("600")
    form.get_by_label(words(page, "device.lease_cutoff"), exact=True).check()
    form.get_by_role("button", name=words(page, "device.lease_save")).click()
    facts.get_by_text(words(page, "device.leased"), exact=True).wait_for()
    assert "600 s" in facts.inner_text()
    page.reload()  # kept by the API, not just shown
    page.locator("#lease-facts").get_by_text(words(page, "device.leased"), exact=True).wait_for()
    assert page.locator("#cutoff-now").is_checked()
    # a grace the API refuses is named under its field
    form.get_by_label(words(page, "device.lease_grace"), exact=True).fill("-5")
    form.get_by_role("button", name=words(page, "device.lease_save")).click()
    page.locator("#lease-grace_s-error").wait_for()
    assert page.locator("#lease-grace_s").get_attribute("aria-invalid") == "true"
    # a BMS parameter out of its range is refused by the API, said under the value
    params = page.locator("#param-write")
    params.get_by_label(words(page, "device.param_name")).select_option("cell_over_voltage_v")
    params.get_by_label(words(page, "device.param_value")).fill("99")
    params.get_by_role("button", name=words(page, "device.cmd.write_params")).click()
    refused = page.locator("#param-value-error")
    refused.wait_for()  # shown once it holds a message
    assert "65.535" in refused.inner_text()  # the JBD's ceiling
    # cutting power asks first; Escape answers no, and nothing is issued
    page.get_by_role("button", name=words(page, "device.cmd.discharge_off")).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # a command issued after it is listed alone: the cut was never issued
    page.get_by_role("button", name=words(page, "device.cmd.charge_off")).click()
    page.locator("#following .command-life").wait_for()
    rows = page.locator("#command-table tbody tr")
    page.wait_for_function(
        "word => document.querySelector('#command-table tbody').innerText.includes(word)",
        arg=words(page, "device.cmd.charge_off"),
    )
    assert rows.count() == 1
    assert words(page, "device.cmd.discharge_off") not in rows.inner_text()
    # no worker runs here to send it, so the command waits queued; its issuer cancels it
    page.get_by_role("button", name=words(page, "device.cancel_command")).click()
    page.locator('#following .command-life[data-state="cancelled"]').wait_for()
    assert page.get_by_role("button", name=words(page, "device.cancel_command")).count() == 0
    assert [e for e in _script_errors(page) if "status of 422" not in e] == []
