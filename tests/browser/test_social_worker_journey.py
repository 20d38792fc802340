"""A social worker's first journey through the Swedish pages, checked by axe on every page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, login, save_screenshot
from tests.builders import valid_personnummer

pytestmark = pytest.mark.browser

CASE_REFERENCE = re.compile(r"(SSPF|SIG)-\d{4}-\d{4,}")
CASE_TOTAL = re.compile(r"(\d+) ärenden?, sida \d+ av \d+")


def wrong_check_digit(personnummer: str) -> str:
    return personnummer[:-1] + str((int(personnummer[-1]) + 1) % 10)


def case_total(page: Page) -> int:
    """The number of cases the case list says the user can see (from its pagination line)."""
    page.goto("/arenden")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärenden")
    match = CASE_TOTAL.search(page.get_by_role("navigation", name="Sidor").inner_text())
    assert match, "the case list shows no total"
    return int(match.group(1))


def test_social_worker_registers_a_young_person_and_opens_a_case(page: Page) -> None:
    page.goto("/logga-in")
    expect(page).to_have_title("Logga in – Samsyn")
    assert_accessible(page)

    login(page, "handlaggare")
    expect(page).to_have_url(re.compile(r"/start$"))  # Min dag
    expect(page.get_by_role("heading", level=1)).to_have_text("Min dag")
    assert_accessible(page)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    expect(page).to_have_url(re.compile(r"/arenden$"))
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(page)
    save_screenshot(page, "case-list")
    cases_before = case_total(page)

    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Registrera ung person"
    ).click()
    expect(page).to_have_url(re.compile(r"/unga/ny$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrera ung person")
    assert_accessible(page)

    # A personnummer with the wrong check digit: the form comes back with Swedish errors.
    personnummer = valid_personnummer()
    page.get_by_label("Personnummer eller samordningsnummer").fill(wrong_check_digit(personnummer))
    page.get_by_label("Förnamn").fill("Påhittad")
    page.get_by_label("Efternamn").fill("Testsson")
    page.get_by_label("Kön (används bara för statistik)").select_option(index=1)
    guardian = page.get_by_role("group", name="Vårdnadshavare 1")
    guardian.get_by_label("Namn").fill("Vera Testsson")
    guardian.get_by_label("Telefon").fill("070-000 00 00")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/unga/ny")
    ) as posted:
        page.get_by_role("button", name="Registrera").click()
    assert posted.value.status == 422
    expect(page).to_have_url(re.compile(r"/unga/ny$"))
    expect(page).to_have_title(re.compile(r"^Fel: Registrera ung person"))

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Det finns problem att rätta")
    summary_link = summary.locator('a[href="#personnummer"]')
    expect(summary_link).to_have_count(1)
    expect(summary_link).to_contain_text("Kontrollsiffran")
    field = page.get_by_label("Personnummer eller samordningsnummer")
    expect(field).to_have_attribute("aria-invalid", "true")
    field_message = page.locator("#personnummer-error")
    expect(field_message).to_contain_text("Kontrollsiffran")
    # The field's accessible description carries the message, so a screen reader hears it.
    expect(field).to_have_accessible_description(re.compile("Kontrollsiffran"))
    # What the user typed is kept.
    expect(page.get_by_label("Förnamn")).to_have_value("Påhittad")
    assert_accessible(page)
    save_screenshot(page, "registration-errors")

    # The summary link takes the user to the field.
    summary_link.click()
    expect(field).to_be_focused()

    # Fix the check digit and register.
    field.fill(personnummer)
    page.get_by_role("button", name="Registrera").click()
    expect(page).to_have_url(re.compile(r"/unga/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Påhittad Testsson")
    expect(page.get_by_text("Vera Testsson")).to_be_visible()
    expect(page.get_by_text("Inga ärenden ännu.")).to_be_visible()
    assert_accessible(page)
    person_url = page.url

    page.get_by_role("radio", name=re.compile(r"^SSPF")).check()
    page.get_by_role("button", name="Öppna ärende").click()
    expect(page).to_have_url(re.compile(r"/arenden/[0-9a-f-]{36}\?nytt=1$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Ärende SSPF-\d{4}-\d{4,}$"))
    match = CASE_REFERENCE.search(heading.inner_text())
    assert match
    reference = match.group(0)
    expect(page.get_by_role("status")).to_have_text(f"Ärendet {reference} är öppnat.")
    expect(page.get_by_role("link", name="Påhittad Testsson")).to_be_visible()
    assert_accessible(page)
    save_screenshot(page, "case")
    case_url = page.url.split("?")[0]

    # The case list has the new case, newest first, and exactly one more case than before.
    assert case_total(page) == cases_before + 1
    link = page.get_by_role("table").get_by_role("link", name=reference, exact=True)
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url(case_url)

    # The young person's page lists the case too.
    page.goto(person_url)
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()


def fill_young_person(page: Page, personnummer: str, guardian_email: str = "") -> None:
    page.get_by_label("Personnummer eller samordningsnummer").fill(personnummer)
    page.get_by_label("Förnamn").fill("Ingen")
    page.get_by_label("Efternamn").fill("Sparad")
    page.get_by_label("Kön (används bara för statistik)").select_option(index=1)
    guardian = page.get_by_role("group", name="Vårdnadshavare 1")
    guardian.get_by_label("Namn").fill("Vilma Sparad")
    guardian.get_by_label("E-post").fill(guardian_email)


def test_rejected_registration_stores_nothing(page: Page) -> None:
    login(page, "handlaggare")
    cases_before = case_total(page)
    personnummer = valid_personnummer()

    # A valid personnummer, but the guardian's e-mail is wrong: nothing may be stored.
    page.goto("/unga/ny")
    fill_young_person(page, personnummer, guardian_email="inte-en-adress")
    page.get_by_role("button", name="Registrera").click()
    summary = page.get_by_role("alert")
    expect(summary.locator('a[href="#guardian1_email"]')).to_have_text(
        "Ange en e-postadress som namn@exempel.se."
    )
    expect(page.get_by_label("E-post").first).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    assert case_total(page) == cases_before

    # Had the first attempt stored the person, this would be refused as a duplicate.
    page.goto("/unga/ny")
    fill_young_person(page, personnummer, guardian_email="vilma@exempel.se")
    page.get_by_role("button", name="Registrera").click()
    expect(page).to_have_url(re.compile(r"/unga/[0-9a-f-]{36}$"))
    expect(page.get_by_text("Inga ärenden ännu.")).to_be_visible()

    # The same personnummer a second time is refused, in Swedish, on the field.
    page.goto("/unga/ny")
    fill_young_person(page, personnummer)
    page.get_by_role("button", name="Registrera").click()
    expect(page.locator("#personnummer-error")).to_contain_text("finns redan registrerad")


def test_login_with_the_keyboard_only(page: Page) -> None:
    page.goto("/logga-in")

    # The skip link is the first thing Tab reaches, and it becomes visible when focused.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.keyboard.press("Tab")
    username = page.get_by_label("Användarnamn")
    expect(username).to_be_focused()
    assert username.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.type("handlaggare")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Lösenord")).to_be_focused()
    page.keyboard.type("demo-losenord-2026")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/start$"))

    # On the case list, the skip link is still first, and the next stop in the content is
    # the main action of the page.
    page.goto("/arenden")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    register = page.get_by_role("main").get_by_role("link", name="Registrera ung person")
    expect(register).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/unga/ny$"))


def test_wrong_password_is_reported_in_swedish(page: Page) -> None:
    page.goto("/logga-in")
    page.get_by_label("Användarnamn").fill("handlaggare")
    page.get_by_label("Lösenord").fill("fel-losenord")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Logga in").click()
    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("Fel användarnamn eller lösenord.")
    assert_accessible(page)


def test_role_without_case_access_lands_on_its_own_page(page: Page) -> None:
    login(page, "logggranskare")
    expect(page).to_have_url(re.compile(r"/granskning$"))  # issue 15: the auditor's log search
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mitt konto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Välkommen, "))
    expect(page.get_by_text("Din roll ger ingen tillgång")).to_be_visible()
    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu.get_by_role("link", name="Ärenden")).to_have_count(0)
    expect(menu.get_by_role("link", name="Registrera ung person")).to_have_count(0)
    assert_accessible(page)

    # Typing the address anyway gives a Swedish refusal, titled as such.
    response = page.goto("/arenden")
    assert response is not None
    assert response.status == 403
    expect(page).to_have_title("Du har inte behörighet – Samsyn")
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har inte behörighet")
    assert_accessible(page)


def test_unknown_case_shows_not_found(page: Page) -> None:
    login(page, "handlaggare")
    response = page.goto(f"/arenden/{uuid.uuid4()}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    expect(page).to_have_title("Sidan finns inte – Samsyn")
    assert_accessible(page)


def test_logout_returns_to_login(page: Page) -> None:
    login(page, "handlaggare")
    page.get_by_role("button", name="Logga ut", exact=True).click()
    expect(page).to_have_url(re.compile(r"/logga-in\?utloggad=1$"))
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")
    assert_accessible(page)
    page.goto("/arenden")
    expect(page).to_have_url(re.compile(r"/logga-in\?nasta=/arenden$"))
