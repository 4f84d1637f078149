"""Signing in and out through the console's pages in a real Chromium: the cookie session,
a wrong password named on the form, the TOTP step, an ended session sent back to sign in,
and the security headers of every page."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pyotp
import pytest

from tests.cloud.auth_support import give_factor
from tests.cloud.tenancy_support import PASSWORD, make_account, make_operator
from tests.console.page_support import screenshot, sign_in, words

pytestmark = [pytest.mark.postgres]

LOGIN = "dora@a.test"


@pytest.fixture
def account(database):
    with psycopg.connect(database, autocommit=True) as conn:
        return make_account(conn, make_operator(conn, "A"), LOGIN, password=PASSWORD)


def test_sign_in_lands_on_the_account_page_and_signing_out_ends_the_session(
    page, console, account, request
):
    sign_in(page, console, LOGIN, PASSWORD, next_path="/account")
    assert page.url.endswith("/account")
    page.get_by_text(LOGIN, exact=True).first.wait_for()
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["vr_session"]["httpOnly"] and cookies["vr_session"]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("vr_session") == -1  # no script can read it
    screenshot(page, request, "account")
    page.get_by_role("button", name=words(page, "nav.sign_out")).click()
    page.wait_for_url("**/sign-in")
    page.goto(f"{console.url}/account")  # the session is gone: back to signing in
    page.wait_for_url("**/sign-in?**")
    assert page.get_by_text(words(page, "sign_in.ended")).is_visible()
    assert [error for error in page.errors if "status of 401" not in error] == []


def test_a_wrong_password_is_said_on_the_form(page, console, account):
    page.goto(f"{console.url}/sign-in")
    page.get_by_label(words(page, "sign_in.login")).fill(LOGIN)
    page.get_by_label(words(page, "sign_in.password")).fill("not the password")
    page.get_by_role("button", name=words(page, "sign_in.submit")).click()
    page.get_by_text("login or password is wrong").wait_for()
    assert page.url.endswith("/sign-in")


def test_an_account_with_a_second_factor_gives_its_code(page, console, account, database):
    with psycopg.connect(database, autocommit=True) as conn:
        secret = give_factor(conn, account)
    page.goto(f"{console.url}/sign-in?next=/account")
    page.get_by_label(words(page, "sign_in.login")).fill(LOGIN)
    page.get_by_label(words(page, "sign_in.password")).fill(PASSWORD)
    page.get_by_role("button", name=words(page, "sign_in.submit")).click()
    code = page.get_by_label(words(page, "sign_in.code"))
    code.fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=words(page, "sign_in.verify")).click()
    # not the glob "**/account": the sign-in page's own URL ends in "?next=/account"
    page.wait_for_url(lambda url: urlsplit(url).path == "/account")
    page.get_by_text(words(page, "account.factor_on")).wait_for()


def test_every_page_forbids_inline_scripts_and_foreign_origins(page, console):
    answer = page.goto(f"{console.url}/sign-in")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    # a script the page did not load from its origin does not run
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.append(s); }"
    )
    assert page.evaluate("window.injected") is None


def test_the_sign_in_page_speaks_chinese_to_a_chinese_browser(browser, console):
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{console.url}/sign-in")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.get_by_role("heading").inner_text() == "登录"
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**lang=en")
        assert page.get_by_role("heading").inner_text() == "Sign in"
        page.goto(f"{console.url}/sign-in")  # the choice sticks
        assert page.get_by_role("heading").inner_text() == "Sign in"
    finally:
        context.close()
