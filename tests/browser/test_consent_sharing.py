"""Consent in the browser: the school contact sees a 15-year-old's case only once both
guardians and the young person have consented, sees exactly the consented categories, and
gets the 404 page on the next click after a guardian's withdrawal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from common.clock import today
from tests.browser.conftest import Server, assert_accessible, login
from tests.builders import valid_personnummer

pytestmark = pytest.mark.browser
SCHOOL = "Ekbackens skola (demo)"


def open_case_for_a_fifteen_year_old(page: Page) -> str:
    login(page, "handlaggare")
    page.goto("/unga/ny")
    born = today() - timedelta(days=15 * 365 + 60)
    page.get_by_label("Personnummer eller samordningsnummer").fill(valid_personnummer(born))
    page.get_by_label("Förnamn").fill("Femton")
    page.get_by_label("Efternamn").fill("Samtyckesson")
    page.get_by_label("Kön (används bara för statistik)").select_option("male")
    page.get_by_label("Skola (valfritt)").select_option(label=SCHOOL)
    for number, name in ((1, "Vera Samtyckesson"), (2, "Ville Samtyckesson")):
        group = page.get_by_role("group", name=re.compile(f"^Vårdnadshavare {number}"))
        group.get_by_label("Namn").fill(name)
        group.get_by_label("Har vårdnaden").check()
    page.get_by_role("button", name="Registrera").click()
    page.get_by_role("button", name="Öppna ärende").click()
    expect(page).to_have_url(re.compile(r"/arenden/[0-9a-f-]{36}"))
    case_url = page.url.split("?")[0]
    expect(page.get_by_text("Nästa steg är att hämta in samtycke.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Ändra till: inväntar samtycke").click()
    expect(page.get_by_text("pågående av sig självt")).to_be_visible()
    page.get_by_role("link", name="Hantera teamet").click()
    assert_accessible(page)
    page.get_by_label("Person").select_option(label=f"Sven Skolkurator (demo) – {SCHOOL}")
    page.get_by_role("button", name="Lägg till").click()
    expect(page.get_by_role("status")).to_have_text("Personen är tillagd i teamet.")
    return case_url


def record(page: Page, case_url: str, signer: str) -> None:
    page.goto(case_url + "/samtycken")
    page.get_by_role("radio", name=re.compile(signer)).check()
    page.get_by_role("radio", name="Ger samtycke").check()
    page.get_by_label("Underskrivet den").fill(today().isoformat())
    page.get_by_role("group", name="Organisationer som får ta del av uppgifterna").get_by_label(
        SCHOOL
    ).check()
    categories = page.get_by_role("group", name="Uppgifter som får delas")
    categories.get_by_label("Grunduppgifter").check()
    categories.get_by_label("Skola").check()
    page.get_by_label("Hur samtycket lämnades").select_option("paper_form")
    page.get_by_role("button", name="Registrera beslutet").click()
    expect(page.get_by_role("status")).to_have_text("Samtycket är registrerat.")


def record_with_the_same_scope(page: Page, case_url: str, signer: str, same_as: str) -> None:
    """Record a consent whose scope is another signer's, chosen with the keyboard; the script
    ticks that signer's boxes so the scope can be adjusted before it is saved."""
    page.goto(case_url + "/samtycken")
    page.get_by_role("radio", name=re.compile(signer)).check()
    page.get_by_role("radio", name="Ger samtycke").check()
    page.get_by_label("Underskrivet den").fill(today().isoformat())
    scope = page.get_by_role("group", name="Omfattning")
    scope.get_by_role("radio", name="Välj själv nedan").focus()
    page.keyboard.press("ArrowDown")  # the next choice: the first signer's scope
    expect(scope.get_by_role("radio", name=f"Samma omfattning som {same_as}")).to_be_checked()
    categories = page.get_by_role("group", name="Uppgifter som får delas")
    expect(categories.get_by_label("Skola")).to_be_checked()
    expect(categories.get_by_label("Grunduppgifter")).to_be_checked()
    expect(categories.get_by_label("Polis")).not_to_be_checked()
    assert_accessible(page)
    page.get_by_label("Hur samtycket lämnades").select_option("paper_form")
    page.get_by_role("button", name="Registrera beslutet").click()
    expect(page.get_by_role("status")).to_have_text("Samtycket är registrerat.")
    row = page.get_by_role("row").filter(has_text=signer)
    expect(row).to_contain_text("Grunduppgifter, Skola")


def school_sees(school: Page, case_url: str) -> bool:
    response = school.goto(case_url)
    assert response is not None
    return response.status == 200


def test_school_contact_follows_the_consent(page: Page, browser: Browser, server: Server) -> None:
    case_url = open_case_for_a_fifteen_year_old(page)
    context = browser.new_context(base_url=server.url)
    school = context.new_page()
    login(school, "skola")
    assert not school_sees(school, case_url)
    expect(school.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")

    record(page, case_url, "Vera Samtyckesson")
    assert_accessible(page)
    record_with_the_same_scope(
        page, case_url, "Ville Samtyckesson", "Vera Samtyckesson (vårdnadshavare)"
    )
    assert not school_sees(school, case_url)  # the 15-year-old has not signed yet
    record(page, case_url, r"\(den unga\)")
    expect(page.get_by_text("Samtycket är komplett.")).to_be_visible()

    assert school_sees(school, case_url)
    expect(school.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Ärende SSPF-"))
    expect(school.get_by_text("inom samtycket: Grunduppgifter, Skola.")).to_be_visible()
    expect(school.get_by_role("link", name="Samtycken")).to_have_count(0)
    assert_accessible(school)

    page.goto(case_url + "/samtycken")
    page.get_by_role("button", name="Återkalla samtycket från Vera Samtyckesson").click()
    expect(page.get_by_role("status")).to_contain_text("Samtycket är återkallat.")
    assert_accessible(page)

    school.reload()  # the very next click
    expect(school.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    context.close()

    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Samtyckesbevakning"
    ).click()
    row = (
        page.get_by_role("row")
        .filter(has_text="Samtycke återkallat")
        .filter(has_text="Femton Samtyckesson")
    )
    expect(row.first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Typ av bevakning").select_option(label="Samtycke återkallat")
    page.get_by_role("button", name="Visa").click()
    expect(page).to_have_url(re.compile(r"concern=withdrawn"))
    rows = page.get_by_role("row").filter(has_text="Femton Samtyckesson")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Vera Samtyckesson (vårdnadshavare) har återkallat samtycket")
    expect(rows).to_contain_text(f"sedan {today().isoformat()}")
    shown = page.locator("tbody tr").count()
    expect(page.locator("#count")).to_have_text(
        re.compile(rf"^{shown} bevakningar? i \d+ ärenden? \(av \d+ utan filter\)\.$")
    )
    assert_accessible(page)
