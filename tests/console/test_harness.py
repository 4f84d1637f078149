"""The browser tests' harness works: Chromium opens a page the shared demo serves, and the
demo's business is there for the console's tests to use."""

from __future__ import annotations


def test_chromium_opens_the_demos_api_docs(demo, browser):
    page = browser.page()

    page.goto(f"{demo.api_url}/docs")

    assert "VoltRent" in page.title()
    assert browser.screenshot(page, "api-docs").stat().st_size > 0


def test_the_demo_has_a_company_with_stores_and_their_staff(demo):
    staff = [demo.accounts["keji"], demo.accounts["houhai"]]
    company = demo.accounts["company"]

    assert {a.operator_id for a in staff} == {company.operator_id} != {1}
    assert staff[0].store_id != staff[1].store_id
    assert all(demo.devices_of(key) for key in ("keji", "houhai"))
    assert not set(demo.devices_of("keji")) & set(demo.devices_of("houhai"))
    assert set(demo.devices_of("company")) < set(demo.devices_of("admin"))
