"""Issue 13's referral story in Chromium: the school contact refers a young person with two
grounds, the police refer the same young person, the social worker finds both together in
the inbox and opens an SSPF case from the school's referral; the school then sees "Tagen upp"
and nothing more. axe checks every page on the way."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from common.clock import today
from tests.browser.conftest import Server, assert_accessible, login
from tests.builders import valid_personnummer

pytestmark = pytest.mark.browser


def refer(page: Page, personnummer: str, programme: str, grounds: int) -> None:
    page.goto("/aktualiseringar/ny")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aktualisera en ung person")
    page.get_by_label("Personnummer", exact=True).fill(personnummer)
    # The demo municipality has one social-services unit: it is chosen already.
    expect(page.get_by_label("Område där den unga personen bor")).not_to_have_value("")
    page.locator(f"#programme-{programme}").check()
    for number in range(1, grounds + 1):
        page.locator(f"#ground-{number}").check()
    page.get_by_label("Beskriv din oro (valfritt)").fill("Påhittad oro i webbläsartestet.")
    assert_accessible(page)
    page.get_by_role("button", name="Skicka aktualisering").click()
    expect(page.get_by_role("status")).to_contain_text("Aktualiseringen är skickad.")
    assert_accessible(page)


def test_refer_find_the_duplicate_and_take_up(page: Page, browser: Browser, server: Server) -> None:
    personnummer = valid_personnummer(today() - timedelta(days=14 * 365 + 100))

    login(page, "skola")
    refer(page, personnummer, "SSPF", grounds=2)
    mine = page.get_by_role("table").locator("tr").filter(has_text="Mottagen")
    expect(mine.first).to_be_visible()

    police_context = browser.new_context(base_url=server.url, locale="sv-SE")
    police = police_context.new_page()
    login(police, "polis")
    refer(police, personnummer, "assess", grounds=1)
    police_context.close()

    worker_context = browser.new_context(base_url=server.url, locale="sv-SE")
    worker = worker_context.new_page()
    login(worker, "handlaggare")
    worker.goto("/aktualiseringar")
    group = worker.locator("section.referral-group").filter(has_text=personnummer[-4:])
    group = group.filter(has_text="2 aktualiseringar")
    expect(group).to_have_count(1)
    expect(group.get_by_role("row")).to_have_count(3)  # a header and the two referrals
    assert_accessible(worker)
    group.get_by_role("row").filter(has_text="Ekbackens skola").get_by_role("link").click()
    expect(
        worker.get_by_role("heading", name="Fler aktualiseringar om samma unga person")
    ).to_be_visible()
    assert_accessible(worker)
    worker.get_by_label("Öppna ärende").check()
    worker.get_by_label("Insats", exact=True).select_option("SSPF")
    worker.get_by_label("Förnamn").fill("Webbtest")
    worker.get_by_label("Efternamn").fill("Påhittadsson")
    worker.get_by_label("Kön (används bara för statistik)").select_option(index=1)
    worker.get_by_role("button", name="Spara beslut").click()
    expect(worker.get_by_role("status")).to_contain_text("Beslutet är sparat.")
    assert_accessible(worker)
    worker_context.close()

    page.goto("/aktualiseringar/mina")
    rows = page.get_by_role("table").get_by_role("row")
    taken = rows.filter(has_text="Tagen upp")
    expect(taken.first).to_be_visible()
    text = page.locator("main").inner_text()
    # Status only: no case reference, no name given at triage, no reason.
    assert not re.search(r"SSPF-\d{4}-\d{4}", text)
    assert "Webbtest" not in text
    assert "Påhittadsson" not in text
    assert_accessible(page)


def test_sig_referral_waits_because_police_capacity_is_full(
    page: Page, browser: Browser, server: Server
) -> None:
    """The demo police officer is on two open SIG cases, their capacity: a new SIG referral
    is shown the warning and goes on the waiting list."""
    personnummer = valid_personnummer(today() - timedelta(days=16 * 365 + 40))
    login(page, "polis")
    refer(page, personnummer, "SIG", grounds=2)

    worker_context = browser.new_context(base_url=server.url, locale="sv-SE")
    worker = worker_context.new_page()
    login(worker, "handlaggare")
    worker.goto("/aktualiseringar")
    group = worker.locator("section.referral-group").filter(has_text=personnummer[-4:])
    group.get_by_role("link").first.click()
    warning = worker.locator(".warning").filter(has_text="Kapaciteten är full")
    expect(warning).to_contain_text("Polisens kontaktpersoner har full kapacitet för SIG")
    assert_accessible(worker)
    worker.get_by_label("Sätt på väntelistan").check()
    worker.locator("#criteria-ja").check()
    worker.get_by_role("button", name="Spara beslut").click()
    saved = worker.get_by_role("status").filter(has_text="Beslutet är sparat.")
    expect(saved).to_be_visible()
    expect(worker.locator("dl.summary")).to_contain_text("På väntelistan")

    worker.goto("/vantelista")
    assert_accessible(worker)
    sig = worker.get_by_role("region", name="SIG")
    waiting = sig.get_by_role("row").filter(has_text=personnummer[-4:])
    expect(waiting).to_have_count(1)
    expect(waiting.get_by_role("cell").first).to_have_text("3")  # after the demo's two
    worker_context.close()

    page.goto("/aktualiseringar/mina")
    mine = page.get_by_role("row").filter(has_text=personnummer[-4:])
    expect(mine).to_contain_text("Under bedömning")  # waiting is not the sender's business
