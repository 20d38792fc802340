"""Logging in with the school's OpenID provider, in Chromium: the button on our login page,
the provider's login and consent pages, and back to Samsyn with a session, no TOTP asked."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    SCHOOL_LOGIN_LABEL,
    FederatedSetup,
    assert_accessible,
    save_screenshot,
)
from tests.openid_provider import IDP_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def federated_page(browser: Browser, federated: FederatedSetup) -> Iterator[Page]:
    context = browser.new_context(base_url=federated.server.url, locale="sv-SE")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_contact_person_logs_in_with_the_schools_login(
    federated_page: Page, federated: FederatedSetup
) -> None:
    page = federated_page
    page.goto("/arenden")  # a page that needs a login: it is where the user ends up
    expect(page).to_have_url(re.compile(r"/logga-in\?nasta=/arenden$"))
    assert_accessible(page)
    page.get_by_role("link", name=SCHOOL_LOGIN_LABEL).click()

    expect(page).to_have_url(re.compile("^" + re.escape(federated.provider.issuer("skola"))))
    page.get_by_label("Användar-id").fill("kontakt-karin")
    page.get_by_label("Lösenord").fill(IDP_PASSWORD)
    page.get_by_role("button", name="Logga in hos IdP").click()
    page.get_by_role("button", name="Godkänn").click()

    # Back at Samsyn: the continue page set the session cookie and went on by itself.
    expect(page).to_have_url(f"{federated.server.url}/arenden")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärenden")
    expect(page.locator(".who")).to_have_text("Karin Kontaktsson (test)")
    assert_accessible(page)
    save_screenshot(page, "oidc-logged-in")

    page.goto("/start")
    expect(page.get_by_text("Du loggar in via din organisations inloggning")).to_be_visible()
    expect(page.get_by_role("link", name="Aktivera tvåstegsverifiering")).to_have_count(0)


def test_logging_out_ends_the_session_at_the_provider_too(
    federated_page: Page, federated: FederatedSetup
) -> None:
    """On a shared computer the next person's click on the school's button must meet the
    provider's password page, not Karin's open session there."""
    page = federated_page
    page.goto("/logga-in")
    page.get_by_role("link", name=SCHOOL_LOGIN_LABEL).click()
    page.get_by_label("Användar-id").fill("kontakt-karin")
    page.get_by_label("Lösenord").fill(IDP_PASSWORD)
    page.get_by_role("button", name="Logga in hos IdP").click()
    page.get_by_role("button", name="Godkänn").click()
    expect(page.locator(".who")).to_have_text("Karin Kontaktsson (test)")

    page.get_by_role("button", name="Logga ut", exact=True).click()
    # Samsyn's page goes on by itself to the provider, which asks to confirm.
    expect(page).to_have_url(re.compile("^" + re.escape(federated.provider.issuer("skola"))))
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(f"{federated.server.url}/logga-in?utloggad=1")
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")

    page.get_by_role("link", name=SCHOOL_LOGIN_LABEL).click()
    expect(page.get_by_label("Användar-id")).to_be_visible()  # the password is asked again
