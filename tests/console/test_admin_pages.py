"""The administration pages in a real Chromium on a real PostgreSQL, as an operator's
administrator uses them: a store made with its position picked on the map, an account made
(its password shown once), given a role and disabled, the audit rows of all that, the
operator tree with its fleet, and every page at 360 px in both languages."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import add_device, set_state
from tests.cloud.tenancy_support import (
    PASSWORD,
    make_account,
    make_operator,
    make_role,
    make_store,
)
from tests.console.page_support import PHONE, screenshot, sign_in, words

pytestmark = [pytest.mark.postgres]

ADMIN = "admin@a.test"
PAGES = ("operators", "stores", "accounts", "roles", "transfers", "audit")


@pytest.fixture
def tenancy(database):
    """Operator A (its administrator, a 'clerk' role) over A1 with two packs, one online."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        a1 = make_operator(conn, "A1", parent=a)
        make_role(conn, a, "clerk", ["device.read", "store.read"])
        make_account(conn, a, ADMIN, password=PASSWORD)
        add_device(conn, "pack-1", operator_id=a1)
        add_device(conn, "pack-2", operator_id=a1)
        set_state(conn, "pack-1", online=True)
    return {"a": a, "a1": a1}


def errors_of(page) -> list[str]:
    """Script errors, the refusals a test provokes on purpose (401, 404, 422) aside."""
    expected = ("status of 401", "status of 404", "status of 422")
    return [error for error in page.errors if not any(e in error for e in expected)]


def test_a_store_an_account_its_role_and_the_audit_of_it_all(page, console, tenancy, request):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/admin/stores")
    page.get_by_role("button", name=words(page, "stores.new")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "stores.name")).fill("West Lake shop")
    dialog.get_by_label(words(page, "stores.address")).fill("1 Lakeside Rd")
    dialog.get_by_label(words(page, "stores.manager")).fill("Li Lei")
    dialog.get_by_label(words(page, "stores.phone")).fill("13800000000")
    dialog.get_by_label(words(page, "stores.day.mon")).fill("08:00-12:00, 14:00-20:00")
    dialog.get_by_label(words(page, "stores.day.tue")).fill("09:00-08:00")  # backwards
    dialog.locator("#store-map").click(position={"x": 120, "y": 80})  # a position on the map
    picked = (dialog.get_by_label(words(page, "stores.lat")).input_value(),
              dialog.get_by_label(words(page, "stores.lon")).input_value())  # fmt: skip
    assert all(picked), "a click on the map sets the position"
    dialog.get_by_role("button", name=words(page, "admin.create")).click()
    dialog.locator("#store-opening_hours\\.tue-error").get_by_text("close must be later").wait_for()
    dialog.get_by_label(words(page, "stores.day.tue")).fill("")
    screenshot(page, request, "admin-store-form")
    dialog.get_by_role("button", name=words(page, "admin.create")).click()
    page.get_by_role("cell", name="West Lake shop").wait_for()
    with psycopg.connect(console.database) as conn:
        row = conn.execute(
            "SELECT lat, lon, manager, opening_hours FROM store WHERE name = 'West Lake shop'"
        ).fetchone()
    assert (round(row[0], 6), round(row[1], 6)) == tuple(round(float(v), 6) for v in picked)
    assert row[2] == "Li Lei" and row[3] == {"mon": [["08:00", "12:00"], ["14:00", "20:00"]]}

    page.goto(f"{console.url}/admin/accounts")
    page.get_by_role("button", name=words(page, "accounts.new")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "accounts.login")).fill("clerk@a.test")
    dialog.get_by_label(words(page, "accounts.name")).fill("Han Meimei")
    dialog.get_by_role("button", name=words(page, "admin.create")).click()
    secret = page.locator("#once-secret")
    secret.wait_for()
    assert len(secret.inner_text()) >= 12  # the generated password, shown once
    page.get_by_role("button", name=words(page, "admin.done")).click()
    row = page.get_by_role("row").filter(has_text="clerk@a.test")
    row.get_by_role("button", name=words(page, "admin.edit")).click()
    page.get_by_role("dialog").get_by_label("clerk").check()
    page.get_by_role("dialog").get_by_role("button", name=words(page, "admin.save")).click()
    row.get_by_role("cell", name="clerk", exact=True).wait_for()
    row.get_by_role("button", name=words(page, "accounts.disable")).click()
    page.get_by_role("dialog").get_by_role("button", name=words(page, "accounts.disable")).click()
    row.get_by_text(words(page, "accounts.disabled"), exact=True).wait_for()

    page.goto(f"{console.url}/admin/audit")
    page.get_by_label(words(page, "audit.actor")).fill(ADMIN)
    page.get_by_label(words(page, "audit.action")).fill("PATCH /api/accounts")
    page.get_by_role("button", name=words(page, "admin.search")).click()
    page.get_by_role("cell", name="PATCH /api/accounts/<int:account_id>").first.wait_for()
    assert page.get_by_role("row").filter(has_text="PATCH /api/accounts").count() == 2
    page.get_by_label(words(page, "audit.action")).fill("POST /api/")
    page.get_by_role("button", name=words(page, "admin.search")).click()
    page.get_by_role("cell", name="POST /api/accounts").wait_for()
    stores = page.get_by_role("row").filter(has_text="POST /api/stores")
    # the refused try (backwards hours) is kept beside the one that made the store
    assert sorted(stores.locator("td .badge").all_inner_texts()) == [
        "201",
        "422",
    ]
    screenshot(page, request, "admin-audit")
    assert errors_of(page) == []


def test_the_operator_tree_shows_each_branchs_fleet_and_makes_a_sub_operator(
    page, console, tenancy, request
):
    sign_in(page, console, ADMIN, PASSWORD, next_path="/admin/operators")
    a = page.get_by_role("row").filter(has_text="A1").first
    a.get_by_role("cell", name="1 / 2").wait_for()  # A1's packs: one of two online
    page.get_by_role("button", name=words(page, "operators.new")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "operators.name")).fill("A2")
    dialog.get_by_label(words(page, "operators.flag.cutoff_control")).check()
    dialog.get_by_role("button", name=words(page, "admin.create")).click()
    page.get_by_role("cell", name="A2").wait_for()
    with psycopg.connect(console.database) as conn:
        flags = conn.execute("SELECT flags FROM operator WHERE name = 'A2'").fetchone()[0]
    assert flags == ["cutoff_control"]
    screenshot(page, request, "admin-operators")
    page.keyboard.press("Tab")  # nothing left open: no dialog holds the focus
    assert page.get_by_role("dialog").count() == 0
    assert errors_of(page) == []


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_every_admin_page_fits_a_phone(browser, console, tenancy, locale, request):
    context = browser.new_context(locale=locale, viewport=PHONE)
    try:
        page = context.new_page()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        sign_in(page, console, ADMIN, PASSWORD, next_path="/admin/operators")
        for name in PAGES:
            page.goto(f"{console.url}/admin/{name}")
            page.locator("main .loading").wait_for(state="detached")
            page.locator("main h1").wait_for()
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{name} scrolls sideways at 360 px ({wide})"
            screenshot(page, request, f"admin-{name}-{locale}-phone")
        assert failures == []
    finally:
        context.close()


def test_a_role_from_the_checklist_and_packs_moved_to_a_store(page, console, tenancy, request):
    with psycopg.connect(console.database, autocommit=True) as conn:
        make_store(conn, tenancy["a1"], "A1 depot")
    sign_in(page, console, ADMIN, PASSWORD, next_path="/admin/roles")
    page.get_by_role("button", name=words(page, "roles.new")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(words(page, "roles.name")).fill("counter")
    # only what the caller holds may be granted: no platform permission is offered to A
    assert dialog.get_by_role("checkbox", name="platform.", exact=False).count() == 0
    dialog.get_by_role("checkbox", name="device.read", exact=False).check()
    dialog.get_by_role("checkbox", name="alarm.resolve", exact=False).check()
    screenshot(page, request, "admin-role-form")
    dialog.get_by_role("button", name=words(page, "admin.create")).click()
    page.get_by_role("cell", name="alarm.resolve, device.read").wait_for()
    with psycopg.connect(console.database) as conn:
        held = conn.execute("SELECT permissions FROM role WHERE name = 'counter'").fetchone()[0]
    assert sorted(held) == ["alarm.resolve", "device.read"]

    page.goto(f"{console.url}/admin/transfers")
    ids = page.get_by_label(words(page, "transfers.device_ids"))
    ids.fill("pack-1, no-such-pack")
    page.get_by_label(words(page, "transfers.to_operator")).select_option(
        label="· A1"
    )  # indented under A
    page.get_by_label(words(page, "transfers.to_store")).select_option(label="A1 depot")
    page.get_by_role("button", name=words(page, "transfers.submit")).click()
    page.locator("#move-error").get_by_text("no-such-pack").wait_for()  # all or none
    ids.fill("pack-1\npack-2")
    page.get_by_role("button", name=words(page, "transfers.submit")).click()
    page.get_by_role("status").get_by_text("A1 / A1 depot").wait_for()
    with psycopg.connect(console.database) as conn:
        stores = conn.execute(
            "SELECT d.id, s.name FROM device d JOIN store s ON s.id = d.store_id ORDER BY d.id"
        ).fetchall()
    assert stores == [("pack-1", "A1 depot"), ("pack-2", "A1 depot")]
    page.get_by_label(words(page, "transfers.device_id"), exact=True).fill("pack-2")
    page.get_by_label(words(page, "transfers.device_id"), exact=True).press("Enter")
    page.locator("#lookup-result").get_by_role("cell", name="A1 / A1 depot").wait_for()
    page.locator("#recent-list").get_by_role("cell", name="pack-1, pack-2").wait_for()
    screenshot(page, request, "admin-transfers")
    assert errors_of(page) == []


def test_a_reset_password_is_shown_once_and_signs_in(browser, page, console, tenancy):
    with psycopg.connect(console.database, autocommit=True) as conn:
        make_account(conn, tenancy["a"], "lost@a.test", roles=["clerk"], password=PASSWORD)
    sign_in(page, console, ADMIN, PASSWORD, next_path="/admin/accounts")
    row = page.get_by_role("row").filter(has_text="lost@a.test")
    row.get_by_role("button", name=words(page, "accounts.reset_password")).click()
    page.get_by_role("dialog").get_by_role(
        "button", name=words(page, "accounts.reset_password")
    ).click()
    secret = page.locator("#once-secret")
    secret.wait_for()
    new_password = secret.inner_text()
    assert new_password and new_password != PASSWORD
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    row.get_by_role("button", name=words(page, "accounts.revoke")).click()
    page.get_by_role("dialog").get_by_role("button", name=words(page, "accounts.revoke")).click()
    page.get_by_role("alert").filter(has_text="lost@a.test").wait_for()
    context = browser.new_context(locale="en-GB")
    try:
        other = context.new_page()
        sign_in(other, console, "lost@a.test", new_password, next_path="/account")
        other.get_by_text("lost@a.test", exact=True).first.wait_for()
    finally:
        context.close()
    assert errors_of(page) == []
