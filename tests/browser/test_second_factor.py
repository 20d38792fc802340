"""TOTP in the browser, with the production rule on: the school contact enrols an
authenticator app at the first login, and types a code at the next."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from common.clock import utcnow
from domain.auth import totp
from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    DEMO_PASSWORD,
    Server,
    assert_accessible,
    save_screenshot,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def totp_page(browser: Browser, totp_server: Server) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(base_url=totp_server.url, locale="sv-SE")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def password_step(page: Page, username: str) -> None:
    page.goto("/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def code(secret: str, steps_ahead: int = 0) -> str:
    return totp.code_at(secret, totp.step_at(utcnow()) + steps_ahead)


def test_enrolment_at_first_login_then_the_code_at_the_next(totp_page: Page) -> None:
    page = totp_page
    password_step(page, "skola")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tvåstegsverifiering")
    expect(page).to_have_url(re.compile(r"/logga-in/aktivera"))
    assert_accessible(page)

    page.get_by_role("button", name="Visa QR-kod").click()
    qr = page.get_by_role("img", name=re.compile("QR-kod"))
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    assert_accessible(page)
    save_screenshot(page, "totp-enrolment")

    page.get_by_label("Engångskod från appen").fill(code(secret))
    page.get_by_role("button", name="Aktivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Min dag")

    page.get_by_role("button", name="Logga ut", exact=True).click()
    password_step(page, "skola")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ange engångskod")
    assert_accessible(page)
    page.get_by_label("Engångskod").fill("000000" if code(secret, 1) != "000000" else "111111")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_contain_text("Fel eller redan använd engångskod")
    assert_accessible(page)
    # The enrolment used the current step's code: the next step's is the one still unused.
    page.get_by_label("Engångskod").fill(code(secret, 1))
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Min dag")

    page.goto("/start")
    expect(page.get_by_role("region", name="Tvåstegsverifiering")).to_contain_text("Aktiverad")
