"""The geofences page in a real Chromium on a real PostgreSQL: a polygon drawn on the map
with mouse clicks and saved, a circle drawn and then renamed, assigning a fence to devices
by id, by store and by model and taking one off, a fence's crossings, deleting a fence
after a confirmation (Escape keeps it), a reader who may not write, and both languages at
phone size."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect

from tests.cloud.api_support import T0, add_device, insert
from tests.cloud.tenancy_support import (
    PASSWORD,
    make_account,
    make_operator,
    make_role,
    make_store,
)
from tests.console.page_support import PHONE, screenshot, sign_in, words

pytestmark = [pytest.mark.postgres]

ADMIN = "gus@fences.test"
READER = "rae@fences.test"


@pytest.fixture
def fleet(database):
    """Operator A with a store "West" holding pack-1 and pack-2 (model M9), pack-3 outside
    any store (model M7), a fence "Depot" (a circle) with one crossing, an administrator and
    a reader (geofence.read only)."""
    with psycopg.connect(database, autocommit=True) as conn:
        operator = make_operator(conn, "A")
        west = make_store(conn, operator, "West")
        add_device(conn, "pack-1", model="M9", operator_id=operator, store_id=west)
        add_device(conn, "pack-2", model="M9", operator_id=operator, store_id=west)
        add_device(conn, "pack-3", model="M7", operator_id=operator)
        make_account(conn, operator, ADMIN, password=PASSWORD)
        make_role(conn, operator, "watcher", ["geofence.read", "device.read"])
        make_account(conn, operator, READER, roles=("watcher",), password=PASSWORD)
        depot = conn.execute(
            """
            INSERT INTO geofence (operator_id, name, kind, circle_lat, circle_lon, circle_radius_m)
            VALUES (%s, 'Depot', 'keep_in', 30.27, 120.15, 800) RETURNING id
            """,
            (operator,),
        ).fetchone()[0]
        insert(conn, "geofence_assignment", geofence_id=depot, device_id="pack-3")
        insert(
            conn, "geofence_event", device_id="pack-3", geofence_id=depot,
            geofence_name="Depot", type="left", breach=True, time=T0, lat=30.3, lon=120.2,
        )  # fmt: skip
    return {"operator": operator, "west": west, "depot": depot}


def fences(database: str) -> dict[str, dict]:
    """The stored fences by name: kind, shape, margin, dwell and assigned devices."""
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            """
            SELECT g.name, g.kind, g.geometry, g.circle_radius_m, g.margin_m, g.dwell_s,
                   array(SELECT device_id FROM geofence_assignment a
                         WHERE a.geofence_id = g.id ORDER BY device_id) AS devices
            FROM geofence g
            """
        ).fetchall()
    names = ("kind", "geometry", "radius", "margin", "dwell", "devices")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def script_errors(page) -> list[str]:
    return [error for error in page.errors if "status of 401" not in error]


def choose(page, name: str) -> None:
    page.locator("#fences").get_by_role("button", name=name, exact=True).click()
    expect(page.locator("#detail-title")).to_have_text(name)


def test_draw_a_polygon_with_the_mouse_save_it_and_assign_devices(
    page, console, fleet, database, request
):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/geofences")
    page.locator("#fences").get_by_role("button", name="Depot").wait_for()
    page.get_by_role("button", name=words(page, "geofences.draw_polygon")).click()
    box = page.locator("#fence-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-120, -80), (120, -80), (140, 90), (-100, 110)):
        page.mouse.click(x + dx, y + dy)
    expect(page.locator("#draw-state")).to_have_text(
        words(page, "geofences.drawing_polygon").replace("{n}", "4")
    )
    page.get_by_role("button", name=words(page, "geofences.draw_finish")).click()
    page.get_by_label(words(page, "geofences.name")).fill("Riverside")
    page.get_by_label(words(page, "geofences.kind")).select_option("keep_out")
    page.get_by_label(words(page, "geofences.dwell")).fill("90")
    page.get_by_label(words(page, "geofences.margin")).fill("40")
    screenshot(page, request, "geofences-drawn")
    page.get_by_role("button", name=words(page, "geofences.save")).click()
    expect(page.locator("#detail-title")).to_have_text("Riverside")
    stored = fences(database)["Riverside"]
    assert (stored["kind"], stored["margin"], stored["dwell"]) == ("keep_out", 40.0, 90)
    ring = stored["geometry"]["coordinates"][0]
    assert stored["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
    # the clicks' order on screen: west to east along the top, then south
    assert ring[0][0] < ring[1][0] and ring[1][1] > ring[2][1]

    page.get_by_label(words(page, "geofences.device_ids")).fill("pack-1")
    page.get_by_role("button", name=words(page, "geofences.assign_button"), exact=True).click()
    expect(page.locator("#fences tbody tr").filter(has_text="Riverside")).to_contain_text("1")
    assert fences(database)["Riverside"]["devices"] == ["pack-1"]

    page.get_by_label(words(page, "geofences.assign_how")).select_option("model")
    page.get_by_label(words(page, "geofences.model")).fill("M7")
    page.get_by_role("button", name=words(page, "geofences.assign_button"), exact=True).click()
    expect(page.locator("#fences tbody tr").filter(has_text="Riverside")).to_contain_text("2")
    assert fences(database)["Riverside"]["devices"] == ["pack-1", "pack-3"]

    page.get_by_label(words(page, "geofences.assign_how")).select_option("store")
    page.get_by_role("button", name=words(page, "geofences.assign_button"), exact=True).click()
    expect(page.locator("#fences tbody tr").filter(has_text="Riverside")).to_contain_text("3")
    assert fences(database)["Riverside"]["devices"] == ["pack-1", "pack-2", "pack-3"]

    page.get_by_label(words(page, "alarms.filter.device"), exact=True).fill("pack-2")
    page.get_by_role("button", name=words(page, "geofences.unassign_button")).click()
    expect(page.locator("#fences tbody tr").filter(has_text="Riverside")).to_contain_text("2")
    assert fences(database)["Riverside"]["devices"] == ["pack-1", "pack-3"]

    page.get_by_label(words(page, "geofences.device_ids")).fill("no-such-pack")
    page.get_by_role("button", name=words(page, "geofences.assign_button"), exact=True).click()
    expect(page.locator("#assign-device_ids-error")).to_contain_text("no-such-pack")
    assert all("422" in error for error in script_errors(page))


def test_draw_a_circle_then_rename_it(page, console, fleet, database):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/geofences")
    page.locator("#fences").get_by_role("button", name="Depot").wait_for()
    page.get_by_role("button", name=words(page, "geofences.save")).click()
    page.locator("#fence-name-error").wait_for()  # a name and a shape are needed
    page.get_by_label(words(page, "geofences.name")).fill("Yard")
    page.get_by_role("button", name=words(page, "geofences.draw_circle")).click()
    box = page.locator("#fence-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.mouse.click(x + 100, y)
    expect(page.locator("#draw-state")).to_have_text(words(page, "geofences.drawn"))
    page.get_by_role("button", name=words(page, "geofences.save")).click()
    expect(page.locator("#detail-title")).to_have_text("Yard")
    radius = fences(database)["Yard"]["radius"]
    assert radius > 0 and fences(database)["Yard"]["geometry"] is None

    page.get_by_label(words(page, "geofences.name")).fill("Yard north")
    page.get_by_role("button", name=words(page, "geofences.save")).click()
    expect(page.locator("#detail-title")).to_have_text("Yard north")
    assert fences(database)["Yard north"]["radius"] == radius  # the shape stays
    assert "Yard" not in fences(database)
    assert all("422" in error for error in script_errors(page))


def corner_by_keyboard(page, n: int, arrow: str | None = None) -> None:
    """Move the map with ``arrow`` (once it has stopped gliding) and press Space to put
    corner ``n`` at the cross in its middle."""
    if arrow:
        page.keyboard.press(arrow)
        expect(page.locator("#fence-map .leaflet-pan-anim")).to_have_count(0)
    page.keyboard.press(" ")
    said = words(page, "geofences.drawing_polygon").replace("{n}", str(n))
    expect(page.locator("#draw-state")).to_have_text(said)


def test_draw_a_polygon_by_keyboard(page, console, fleet, database):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/geofences")
    page.locator("#fences").get_by_role("button", name="Depot").wait_for()
    page.get_by_label(words(page, "geofences.name")).fill("Keys")
    page.get_by_role("button", name=words(page, "geofences.draw_polygon")).press("Enter")
    expect(page.locator("#fence-map")).to_be_focused()
    corner_by_keyboard(page, 1)
    corner_by_keyboard(page, 2, "ArrowRight")
    corner_by_keyboard(page, 3, "ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#draw-state")).to_have_text(words(page, "geofences.drawn"))
    page.get_by_role("button", name=words(page, "geofences.save")).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail-title")).to_have_text("Keys")
    assert len(fences(database)["Keys"]["geometry"]["coordinates"][0]) == 4
    assert script_errors(page) == []


def test_a_fences_crossings_and_deleting_it_after_a_confirmation(page, console, fleet, database):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/geofences")
    choose(page, "Depot")
    crossing = page.locator("#crossings tbody tr")
    expect(crossing).to_have_count(1)
    expect(crossing).to_contain_text("pack-3")
    expect(crossing).to_contain_text(words(page, "geofences.crossing.left"))

    page.get_by_role("button", name=words(page, "geofences.delete"), exact=True).click()
    dialog = page.locator("#confirm-delete")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # changed their mind: nothing is deleted
    expect(dialog).to_be_hidden()
    assert "Depot" in fences(database)

    page.get_by_role("button", name=words(page, "geofences.delete"), exact=True).click()
    dialog.get_by_role("button", name=words(page, "geofences.delete")).click()
    expect(page.locator("#fences").get_by_role("button", name="Depot")).to_have_count(0)
    assert fences(database) == {}
    assert script_errors(page) == []


def test_a_reader_sees_fences_but_no_tools_to_change_them(page, console, fleet):
    sign_in(page, console, READER, PASSWORD, next_path="/geofences")
    choose(page, "Depot")
    assert page.locator("#editor").is_hidden()
    assert page.locator("#writer-tools").is_hidden()
    expect(page.locator("#crossings tbody tr")).to_have_count(1)
    assert script_errors(page) == []


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_both_languages_on_a_phone(browser, console, fleet, language, request):
    context = browser.new_context(locale=language, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, console, ADMIN, PASSWORD, next_path="/geofences")
        choose(page, "Depot")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("html").get_attribute("lang") == language
        page.locator("#fence-map").scroll_into_view_if_needed()
        screenshot(page, request, f"geofences-{language}-phone-map")
        page.locator("#detail").scroll_into_view_if_needed()
        screenshot(page, request, f"geofences-{language}-phone")
    finally:
        context.close()
