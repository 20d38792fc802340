"""The administrator without the CLI (issue 15): lands on the administration, creates an agency
and a user in it, and resets the user's second factor after the user enrolled one. axe checks
every page on the way, error states included."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from common.clock import utcnow
from domain.auth import totp
from tests.browser.conftest import Server, assert_accessible, login, save_screenshot

pytestmark = pytest.mark.browser

PASSWORD = "forsta-losenordet-2026"


def enrol_second_factor(browser: Browser, server: Server, username: str) -> None:
    """The new user logs in and turns on two-step verification from their account page."""
    context = browser.new_context(base_url=server.url, locale="sv-SE")
    page = context.new_page()
    login(page, username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Min dag")
    page.get_by_role("link", name="Aktivera tvåstegsverifiering").click()
    page.get_by_role("button", name="Visa QR-kod").click()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Engångskod från appen").fill(totp.code_at(secret, totp.step_at(utcnow())))
    page.get_by_role("button", name="Aktivera").click()
    page.goto("/start")
    expect(page.get_by_role("region", name="Tvåstegsverifiering")).to_contain_text("Aktiverad")
    context.close()


def test_administrator_creates_an_agency_and_a_user_and_resets_totp(
    page: Page, browser: Browser, server: Server
) -> None:
    suffix = uuid.uuid4().hex[:6]
    agency_name = f"Fritidsgård Prov {suffix} (demo)"
    username = f"prov.{suffix}"

    login(page, "forvaltare")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    expect(page.get_by_role("link", name="Inställningar").first).to_have_attribute(
        "href", "/admin/installningar"
    )
    assert_accessible(page)

    # An agency: first without a name, then as it should be.
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Organisationer"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisationer")
    assert_accessible(page)
    page.get_by_role("link", name="Lägg till organisation").click()
    assert_accessible(page)
    page.get_by_role("button", name="Lägg till organisationen").click()
    expect(page.get_by_role("alert")).to_contain_text("Ange organisationens namn.")
    expect(page).to_have_title(re.compile(r"^Fel: "))
    assert_accessible(page)
    page.get_by_label("Namn").fill(agency_name)
    page.get_by_label("Fritid").check()
    page.get_by_label("Område (valfritt)").fill("Bäckby")
    page.get_by_role("button", name="Lägg till organisationen").click()
    expect(page.get_by_role("status")).to_have_text("Organisationen är skapad.")
    expect(page.get_by_role("heading", level=1)).to_have_text(agency_name)
    assert_accessible(page)

    # A user in it: a social-worker role outside social services is refused first.
    page.get_by_role("link", name="Tillbaka till organisationerna").click()
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Användare"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Användare")
    assert_accessible(page)
    page.get_by_role("link", name="Skapa användare").click()
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Namn", exact=True).fill("Pia Prov (demo)")
    page.get_by_label("Organisation").select_option(label=f"{agency_name} (Fritid)")
    page.get_by_label("Handläggare").check()
    page.get_by_label("Första lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Skapa användaren").click()
    expect(page.get_by_role("alert")).to_contain_text("måste tillhöra socialtjänsten")
    expect(page.get_by_label("Användarnamn")).to_have_value(username)
    assert_accessible(page)
    page.get_by_label("Handläggare").uncheck()
    page.get_by_label("Kontaktperson").check()
    page.get_by_label("Första lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Skapa användaren").click()
    expect(page.get_by_role("status")).to_have_text("Användaren är skapad.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pia Prov (demo)")
    assert_accessible(page)
    user_url = page.url.split("?")[0]

    # The user enrols an authenticator, loses the phone, and the administrator resets it.
    enrol_second_factor(browser, server, username)
    page.goto(user_url)
    facts = page.locator("dl.summary")
    expect(facts).to_contain_text("Aktiverad")
    expect(facts).to_contain_text("Senast inloggad")
    page.get_by_role("button", name="Återställ tvåstegsverifieringen").click()
    expect(page.get_by_role("status")).to_contain_text("Tvåstegsverifieringen är återställd")
    expect(facts).to_contain_text("Inte aktiverad")
    assert_accessible(page)
    save_screenshot(page, "admin-user")

    page.goto("/admin/anvandare")
    expect(page.get_by_role("row").filter(has_text=username)).to_contain_text(agency_name)
    page.goto("/admin/inloggning")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggning via organisation")
    assert_accessible(page)


@pytest.mark.parametrize(
    ("username", "heading"),
    [
        ("styrgrupp", "Uppföljning av samverkansöverenskommelsen"),
        ("logggranskare", "Logggranskning"),
    ],
)
def test_roles_without_cases_land_on_their_own_page(
    page: Page, username: str, heading: str
) -> None:
    login(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)
