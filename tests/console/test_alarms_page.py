"""The alarm pages in a real Chromium on a real PostgreSQL: filtering the list, resolving one
alarm from its page and several from the list with a note (the store then says resolved with
that note), muting a type for oneself, the curve around an alarm, a reader who may not resolve,
and both languages at phone size. Alarms are put in with SQL as the rules engine leaves them."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from playwright.sync_api import expect

from tests.cloud.alarm_support import add_alarm
from tests.cloud.api_support import T0, add_device, at, insert_bms
from tests.cloud.tenancy_support import (
    PASSWORD,
    make_account,
    make_operator,
    make_role,
    make_store,
)
from tests.console.page_support import PHONE, screenshot, sign_in, words

pytestmark = [pytest.mark.postgres]

ADMIN = "ada@alarms.test"
READER = "rex@alarms.test"
PAST = T0 - timedelta(days=2)  # alarm rows need no partition


def past(minutes: float):
    return PAST + timedelta(minutes=minutes)


@pytest.fixture
def fleet(database):
    """Operator A with a store "West" holding pack-1; pack-2 outside any store; an
    administrator and a reader (alarm.read without alarm.resolve); three open alarms."""
    with psycopg.connect(database, autocommit=True) as conn:
        operator = make_operator(conn, "A")
        west = make_store(conn, operator, "West")
        add_device(conn, "pack-1", model="M1", operator_id=operator, store_id=west)
        add_device(conn, "pack-2", model="M1", operator_id=operator)
        make_account(conn, operator, ADMIN, password=PASSWORD)
        make_role(conn, operator, "reader", ["alarm.read", "device.read"])
        make_account(conn, operator, READER, roles=("reader",), password=PASSWORD)
    alarms = {
        "soc": add_alarm(database, "pack-1", "low_soc", past(0), count=3),
        "hot": add_alarm(
            database, "pack-1", "charge_over_temperature", past(1), severity="critical"
        ),
        "shake": add_alarm(database, "pack-2", "vibration", past(2), severity="info"),
    }
    return {"west": west, **alarms}


def row_ids(page) -> list[str]:
    """The alarm pages the listed rows link to (waits for the list to be drawn)."""
    page.locator("#list table").wait_for()
    return page.eval_on_selector_all(
        "#list tbody tr[data-href]", "rows => rows.map(r => r.dataset.href)"
    )


def rows_become(page, n: int) -> None:
    """Wait until the list shows ``n`` alarms."""
    expect(page.locator("#list tbody tr[data-href]")).to_have_count(n)


def stored(database: str, alarm_id: int) -> tuple:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT state, resolved_by, resolution_note FROM alarm WHERE id = %s", (alarm_id,)
        ).fetchone()


def script_errors(page) -> list[str]:
    return [error for error in page.errors if "status of 401" not in error]


def test_filters_narrow_the_list_and_the_counts_follow(page, console, fleet, request):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/alarms")
    assert sorted(row_ids(page)) == sorted(f"/alarms/{fleet[k]}" for k in ("soc", "hot", "shake"))
    assert page.locator('[data-count="severity-critical"] strong').inner_text() == "1"
    assert page.locator('[data-count="state-open"] strong').inner_text() == "3"
    screenshot(page, request, "alarms")

    page.get_by_label(words(page, "alarms.filter.severity")).select_option("critical")
    rows_become(page, 1)
    assert row_ids(page) == [f"/alarms/{fleet['hot']}"]
    assert "severity=critical" in page.url  # a reload or a link shows the same list
    assert page.locator('[data-count="state-open"] strong').inner_text() == "1"

    page.get_by_role("button", name=words(page, "alarms.filter.clear")).click()
    page.get_by_label(words(page, "alarms.filter.store")).select_option(str(fleet["west"]))
    rows_become(page, 2)
    assert sorted(row_ids(page)) == sorted(f"/alarms/{fleet[k]}" for k in ("soc", "hot"))

    page.get_by_role("button", name=words(page, "alarms.filter.clear")).click()
    page.get_by_label(words(page, "alarms.filter.device")).fill("pack-2")
    page.get_by_label(words(page, "alarms.filter.device")).press("Enter")
    rows_become(page, 1)
    assert row_ids(page) == [f"/alarms/{fleet['shake']}"]

    page.get_by_role("button", name=words(page, "alarms.filter.clear")).click()
    long_before = (PAST - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")  # whatever the zone
    page.get_by_label(words(page, "alarms.filter.to"), exact=True).fill(long_before)
    page.get_by_role("button", name=words(page, "alarms.filter.apply")).click()
    rows_become(page, 0)  # none had begun by then
    page.get_by_text(words(page, "alarms.none")).wait_for()

    page.get_by_label(words(page, "alarms.filter.device")).fill("no/such")
    page.get_by_label(words(page, "alarms.filter.device")).press("Enter")
    page.locator("#f-device_id-error").wait_for()  # the API's 422 named the field
    assert page.locator("#f-device_id").get_attribute("aria-invalid") == "true"
    assert script_errors(page) == [] or all("422" in e for e in script_errors(page))


def test_resolve_one_alarm_from_its_page(page, console, fleet, database):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/alarms")
    row_ids(page)
    page.locator(f'tr[data-href="/alarms/{fleet["hot"]}"]').focus()
    page.keyboard.press("Enter")  # a focused row opens its alarm
    page.wait_for_url(f"**/alarms/{fleet['hot']}")
    page.get_by_role("link", name="pack-1").first.wait_for()
    page.get_by_label(words(page, "alarms.resolve.note")).fill("Cooled down; fan replaced")
    page.locator("#resolve").get_by_role("button", name=words(page, "alarm.resolve")).click()
    page.get_by_text(words(page, "alarm.resolved")).wait_for()
    assert page.locator("#resolve-box").is_hidden()
    assert page.locator("#facts").get_by_text("Cooled down; fan replaced").is_visible()
    assert stored(database, fleet["hot"]) == ("resolved", ADMIN, "Cooled down; fan replaced")

    page.goto(f"{console.url}/alarms")  # the open alarms only: it has left the list
    assert f"/alarms/{fleet['hot']}" not in row_ids(page)
    assert len(row_ids(page)) == 2
    assert script_errors(page) == []


def test_resolve_several_at_once_with_one_note(page, console, fleet, database):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/alarms")
    row_ids(page)
    resolve = page.locator("#resolve-button")
    assert resolve.is_disabled()  # nothing chosen yet
    for key in ("soc", "shake"):
        page.get_by_label(words(page, "alarms.select").replace("{id}", str(fleet[key]))).check()
    page.get_by_label(words(page, "alarms.resolve.note")).fill("Checked on site")
    resolve.click()
    rows_become(page, 1)
    assert row_ids(page) == [f"/alarms/{fleet['hot']}"]
    for key in ("soc", "shake"):
        assert stored(database, fleet[key]) == ("resolved", ADMIN, "Checked on site")
    assert stored(database, fleet["hot"])[0] == "open"

    page.get_by_label(words(page, "alarms.select_all")).check()  # then the rest, by keyboard
    page.get_by_label(words(page, "alarms.resolve.note")).fill("")
    resolve.click()  # a note is required: the API says so under the note
    page.locator("#resolve-note-error").wait_for()
    assert stored(database, fleet["hot"])[0] == "open"
    assert all("422" in error for error in script_errors(page))


def test_muting_a_type_hides_it_from_my_list(page, console, fleet):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/alarms")
    row_ids(page)
    page.locator("#mutes-box summary").click()
    page.get_by_label(words(page, "alarms.type.vibration"), exact=True).check()
    rows_become(page, 2)
    assert f"/alarms/{fleet['shake']}" not in row_ids(page)
    page.reload()
    assert len(row_ids(page)) == 2  # kept by the API, not the page
    page.locator("#mutes-box summary").click()
    page.get_by_label(words(page, "alarms.type.vibration"), exact=True).uncheck()
    rows_become(page, 3)
    assert script_errors(page) == []


def test_the_curve_draws_the_signal_around_the_alarm(page, console, fleet, database, request):
    with psycopg.connect(database, autocommit=True) as conn:
        for minute in range(0, 121, 10):
            insert_bms(conn, "pack-2", at(minute), minute, soc_percent=100.0 - minute / 2)
    alarm_id = add_alarm(
        database, "pack-2", "low_soc", at(60), count=2, step=timedelta(minutes=10),
        active=False, cleared_at=at(80), value=70.0, threshold=20.0,
    )  # fmt: skip
    sign_in(page, console, ADMIN, PASSWORD, next_path=f"/alarms/{alarm_id}")
    page.locator("#curve canvas").wait_for()
    legend = page.locator("#curve .u-legend").inner_text()
    assert "soc_percent" in legend and words(page, "alarm.raise_line") in legend
    assert page.locator("#occurrences tbody tr").count() == 2
    screenshot(page, request, "alarm")
    page.goto(f"{console.url}/alarms/{fleet['shake']}")  # an event has no signal
    page.get_by_text(words(page, "alarm.curve_none")).wait_for()
    assert all("409" in error for error in script_errors(page))  # the API's answer, said


def test_a_reader_without_alarm_resolve_sees_no_resolve_control(page, console, fleet):
    sign_in(page, console, READER, PASSWORD, next_path="/alarms")
    assert len(row_ids(page)) == 3
    assert page.locator("#resolve").is_hidden()
    assert page.locator("#list input[type=checkbox]").count() == 0
    page.goto(f"{console.url}/alarms/{fleet['hot']}")
    page.get_by_role("link", name="pack-1").first.wait_for()
    assert page.locator("#resolve-box").is_hidden()
    assert script_errors(page) == []


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_both_languages_on_a_phone(browser, console, fleet, language, request):
    context = browser.new_context(locale=language, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, console, ADMIN, PASSWORD, next_path="/alarms")
        row_ids(page)
        page.locator("#list").get_by_text(words(page, "alarms.type.vibration")).wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("html").get_attribute("lang") == language
        screenshot(page, request, f"alarms-{language}-phone")
        page.goto(f"{console.url}/alarms/{fleet['soc']}")
        page.locator("#facts dd").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, request, f"alarm-{language}-phone")
    finally:
        context.close()
