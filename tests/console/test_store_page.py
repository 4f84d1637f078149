"""The store staff's phone page in a real Chromium at 360x740: a store's account sees its
store's packs only, finds one by typed id and by a QR code shown to a (fake) camera, and cuts
a pack's power after a confirmation, then follows the command it made: queued while no
gateway answers, done once a pack (a fake device on the real broker, through a real worker)
acks it."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
import segno
from playwright.sync_api import expect

from tests.cloud.api_support import add_device, set_state
from tests.cloud.tenancy_support import PASSWORD, make_account, make_operator, make_store
from tests.cloud.test_commands_dispatch import FakeDevice, start_worker
from tests.cloud.worker_support import scalar, wait_for
from tests.console.browser_support import CHROMIUM
from tests.console.page_support import PHONE, screenshot, sign_in, words

pytestmark = [pytest.mark.postgres]

CLERK = "clerk@shop.test"
WIDTH, HEIGHT = 640, 480


@pytest.fixture
def shop(database):
    """Operator A with two stores: packs p-1 (online, powered) and p-2 in the shop, p-3 in
    the other store; the shop's account (A's administrator role, cut to its store)."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        shop = make_store(conn, a, "Lakeside shop")
        other = make_store(conn, a, "Other shop")
        add_device(conn, "p-1", operator_id=a, store_id=shop)
        add_device(conn, "p-2", operator_id=a, store_id=shop)
        add_device(conn, "p-3", operator_id=a, store_id=other)
        set_state(conn, "p-1", online=True, soc_percent=76.0, discharge_mos=True)
        make_account(conn, a, CLERK, store_id=shop, password=PASSWORD)
    return shop


def phone_page(browser, locale="en-GB"):
    context = browser.new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return context, page


def pack_ids(page) -> list[str]:
    return page.locator(".pack .pack-id").all_inner_texts()


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_a_store_account_sees_its_packs_finds_one_and_cuts_its_power(
    browser, console, shop, locale, request
):
    context, page = phone_page(browser, locale)
    try:
        sign_in(page, console, CLERK, PASSWORD, next_path="/store")
        page.locator(".pack").first.wait_for()
        assert sorted(pack_ids(page)) == ["p-1", "p-2"]  # not the other store's p-3
        assert page.get_by_role("heading", level=1).inner_text() == "Lakeside shop"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, request, f"store-{locale}-phone")

        page.get_by_label(words(page, "store.find")).fill("p-3")
        page.get_by_label(words(page, "store.find")).press("Enter")
        page.get_by_text(words(page, "store.not_found").replace("{id}", "p-3")).wait_for()
        page.get_by_label(words(page, "store.find")).fill("P-2")
        page.get_by_label(words(page, "store.find")).press("Enter")
        expect(page.locator(".pack")).to_have_count(1)
        assert pack_ids(page) == ["p-2"]
        page.get_by_label(words(page, "store.find")).fill("p-1")
        page.get_by_label(words(page, "store.find")).press("Enter")
        expect(page.locator(".pack .pack-id")).to_have_text(["p-1"])

        pack = page.locator(".pack").filter(has_text="p-1")
        pack.get_by_role("button", name=words(page, "store.cut")).click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("p-1").wait_for()
        page.keyboard.press("Escape")  # changed one's mind: nothing is sent
        assert dialog.count() == 0
        pack.get_by_role("button", name=words(page, "store.cut")).click()
        dialog.get_by_role("button", name=words(page, "store.cut")).click()
        status = page.get_by_role("status").filter(has_text="p-1")
        # No gateway runs here: the command stays queued (a pack comes back for it later).
        status.get_by_text(words(page, "store.command.queued")).wait_for()
        screenshot(page, request, f"store-cut-{locale}-phone")
        with psycopg.connect(console.database) as conn:
            commands = conn.execute(
                "SELECT device_id, type, args, state, issued_by FROM command"
            ).fetchall()
        assert commands == [
            ("p-1", "set_discharge", {"on": False, "emergency": False}, "queued", CLERK)
        ]
        assert page.errors == []
    finally:
        context.close()


def qr_video(text: str, folder: Path) -> Path:
    """A few frames of a y4m video (4:2:0, grey) showing the QR code of ``text``."""
    # make_qr: a full QR code (segno.make picks a Micro QR for short texts; jsQR reads none)
    matrix = [list(row) for row in segno.make_qr(text, error="m").matrix]
    scale = 10
    size = (len(matrix) + 8) * scale  # a quiet zone of 4 modules around it
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if not dark:
                continue
            for y in range(scale):
                start = (top + (row + 4) * scale + y) * WIDTH + left + (col + 4) * scale
                luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    path = folder / "qr.y4m"
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def test_a_pack_is_found_by_its_qr_code_in_front_of_the_camera(
    browser, console, shop, tmp_path, request
):
    video = qr_video("p-2", tmp_path)
    flags = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # a second browser (the camera is chosen at launch) from the same Playwright
    with_camera = browser.playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=flags
    )
    try:
        context, page = phone_page(with_camera)
        context.grant_permissions(["camera"], origin=console.url)
        sign_in(page, console, CLERK, PASSWORD, next_path="/store")
        page.locator(".pack").nth(1).wait_for()
        page.get_by_role("button", name=words(page, "store.scan")).click()
        expect(page.locator(".pack")).to_have_count(1)
        assert pack_ids(page) == ["p-2"]
        assert page.get_by_label(words(page, "store.find")).input_value() == "p-2"
        assert page.locator("#camera").is_hidden()  # the camera is let go once it read one
        screenshot(page, request, "store-scanned-phone")
        assert page.errors == []
    finally:
        with_camera.close()


def test_without_a_camera_the_page_says_why_and_typing_remains(browser, console, shop):
    context, page = phone_page(browser)
    try:
        sign_in(page, console, CLERK, PASSWORD, next_path="/store")
        page.locator(".pack").first.wait_for()
        page.get_by_role("button", name=words(page, "store.scan")).click()
        reasons = [words(page, key) for key in ("store.camera_denied", "store.camera_none")]
        error = page.locator("#find-error")
        error.wait_for()
        assert error.inner_text() in reasons
        assert page.get_by_label(words(page, "store.find")).evaluate(
            "input => input === document.activeElement"
        )
    finally:
        context.close()


def test_the_cut_is_followed_live_until_the_pack_acks_it(
    browser, console, shop, broker, tmp_path, request
):
    pack = f"pack-{uuid.uuid4().hex[:8]}"  # retained messages never leak between tests
    with psycopg.connect(console.database, autocommit=True) as conn:
        operator = conn.execute("SELECT operator_id FROM store WHERE id = %s", (shop,)).fetchone()
        add_device(conn, pack, operator_id=operator[0], store_id=shop)
    worker = start_worker(console.database, broker, tmp_path / "worker.log")
    device = FakeDevice(broker.url, pack)
    context, page = phone_page(browser)
    try:
        wait_for(lambda: "dispatcher: leader" in worker.log(), "the worker leads the dispatch")
        device.status(True)
        wait_for(
            lambda: scalar(console.database,
                           "SELECT online FROM device_state WHERE device_id = %s", pack),
            "the pack online",
        )  # fmt: skip
        sign_in(page, console, CLERK, PASSWORD, next_path="/store")
        card = page.locator(".pack").filter(has_text=pack)
        card.get_by_role("button", name=words(page, "store.cut")).click()
        page.get_by_role("dialog").get_by_role("button", name=words(page, "store.cut")).click()
        status = page.get_by_role("status").filter(has_text=pack)
        status.get_by_text(words(page, "store.command.done")).wait_for(timeout=30_000)
        assert device.commands(), "the command reached the pack on down/cmd"
        screenshot(page, request, "store-cut-done-phone")
        assert page.errors == []
    finally:
        context.close()
        device.close()
        worker.stop()
