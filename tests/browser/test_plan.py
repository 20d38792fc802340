"""The plan page in Chromium: the school contact finds the demo plan with its overdue
commitment marked in words, comments on their own commitment; the social worker's empty
commitment form names each field in Swedish. axe checks every state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, assert_accessible, login

pytestmark = pytest.mark.browser
OVERDUE = "Ta fram en närvaroplan och ringa hem samma dag vid frånvaro."


def find_demo_plan(page: Page) -> str:
    """The plan of the demo case with the school's overdue commitment, from the case list."""
    page.goto("/arenden")
    links = page.locator("main a[href^='/arenden/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in links:
        if not re.fullmatch(r"/arenden/[0-9a-f-]{36}", href):
            continue
        page.goto(f"{href}/plan")
        if page.get_by_text(OVERDUE).count():
            return f"{href}/plan"
    pytest.fail("no demo case shows the school's overdue commitment")


def test_school_contact_comments_on_the_overdue_commitment(page: Page) -> None:
    login(page, "skola")
    plan_url = find_demo_plan(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Plan för ärende"))
    row = page.get_by_role("row").filter(has_text=OVERDUE)
    expect(row).to_contain_text("Försenat")
    expect(page.get_by_role("button", name="Lägg till åtagande")).to_have_count(0)
    assert_accessible(page)

    row.get_by_text("Klarmarkera eller kommentera").click()
    row.get_by_label("Kommentar").fill("Närvaroplanen är klar i utkast, skickas fredag.")
    row.get_by_role("button", name="Spara kommentar").click()
    expect(page.get_by_role("status")).to_have_text("Åtagandet är sparat.")
    expect(page.get_by_role("row").filter(has_text=OVERDUE)).to_contain_text("skickas fredag")
    assert plan_url in page.url
    assert_accessible(page)


def test_social_worker_gets_swedish_errors_for_an_empty_commitment(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(base_url=server.url, locale="sv-SE")
    page = context.new_page()
    try:
        login(page, "skola")
        plan_url = find_demo_plan(page)
        page.context.clear_cookies()
        login(page, "handlaggare")
        page.goto(plan_url)
        assert_accessible(page)
        page.get_by_role("button", name="Lägg till åtagande").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Skriv vad som ska göras.")
        expect(summary).to_contain_text("Välj vilken aktör som åtar sig uppgiften.")
        expect(summary).to_contain_text("Ange senast-datum som ÅÅÅÅ-MM-DD.")
        summary.get_by_role("link", name="Skriv vad som ska göras.").click()
        expect(page.get_by_label("Vad ska göras?")).to_be_focused()
        assert_accessible(page)
    finally:
        context.close()
