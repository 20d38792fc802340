"""The auditor's pages: access report, denied probes, integrity check and CSV export."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, assert_accessible, login

pytestmark = pytest.mark.browser


def a_case_read_by_the_social_worker(browser: Browser, server: Server) -> tuple[str, str]:
    """Open the first case as the demo social worker; return its reference and URL."""
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    login(page, "handlaggare")
    page.goto("/arenden")
    link = page.get_by_role("table").get_by_role("link").first
    reference = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {reference}")
    url = page.url
    context.close()
    return reference, url


def test_access_report_names_the_reader_and_the_basis(
    page: Page, browser: Browser, server: Server
) -> None:
    reference, _ = a_case_read_by_the_social_worker(browser, server)
    login(page, "logggranskare")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Logggranskning"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logggranskning")
    assert_accessible(page)

    page.get_by_role("link", name="Åtkomst till ett ärende").click()
    page.get_by_label("Ärendereferens").fill(reference)
    page.get_by_role("button", name="Visa åtkomst").click()
    table = page.get_by_role("table", name=f"Åtkomst till ärendet {reference}")
    reading = (
        table.get_by_role("row")
        .filter(has_text="Läste ärendet")
        .filter(has_text="Hanna Handläggare (demo)")
    )
    expect(reading.first).to_contain_text("Egen enhet")
    people = page.get_by_role("table", name=f"Åtkomst per person till ärendet {reference}")
    person = people.get_by_role("row").filter(has_text="Hanna Handläggare (demo)")
    expect(person).to_contain_text("Handläggare")
    expect(person).to_contain_text("Egen enhet")
    expect(people).not_to_contain_text("case.read")
    assert_accessible(page)

    page.get_by_label("Ärendereferens").fill("SSPF-1999-9999")
    page.get_by_role("button", name="Visa åtkomst").click()
    expect(page.get_by_role("alert")).to_contain_text("Det finns inget ärende med den referensen.")
    assert_accessible(page)


def test_a_partners_probe_is_in_the_denied_list(
    page: Page, browser: Browser, server: Server
) -> None:
    _, case_url = a_case_read_by_the_social_worker(browser, server)
    context = browser.new_context(base_url=server.url)
    probe = context.new_page()
    login(probe, "polis")
    response = probe.goto(case_url)
    assert response is not None
    assert response.status == 404
    context.close()

    login(page, "logggranskare")
    page.goto("/granskning/nekade")
    row = page.get_by_role("row").filter(has_text="Petra Polis (demo)").first
    expect(row).to_contain_text("Nekad")
    assert_accessible(page)


def test_integrity_check_and_search_with_export(page: Page) -> None:
    login(page, "logggranskare")
    page.goto("/granskning/integritet")
    assert_accessible(page)
    page.get_by_role("button", name="Kontrollera loggen nu").click()
    expect(page.get_by_role("status")).to_contain_text("Loggen är intakt")
    assert_accessible(page)

    page.goto("/granskning")
    page.get_by_label("Utfall").select_option("allowed")
    page.get_by_label("Händelse", exact=True).select_option(label="Inloggning")
    page.get_by_role("button", name="Sök").click()
    expect(page.get_by_role("table", name="Händelser i loggen")).to_contain_text("Inloggning")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exportera träffarna som CSV").click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("tid;användar-id;användare;enhet;roll;händelse")
    assert re.search(r";Inloggning;auth\.login;", content)
    with page.expect_download() as download:
        page.get_by_role("link", name="Samma export med engelska kolumnnamn").click()
    content = download.value.path().read_text(encoding="utf-8")
    assert content.splitlines()[0].startswith("occurred_at,user_id,user_name")
    assert re.search(r",auth\.login,", content)

    page.goto("/granskning?sok=1&fran=inte-ett-datum")
    expect(page.get_by_role("alert")).to_contain_text("Ange datum som ÅÅÅÅ-MM-DD.")
    assert_accessible(page)


def test_other_roles_are_refused(page: Page) -> None:
    login(page, "handlaggare")
    response = page.goto("/granskning")
    assert response is not None
    assert response.status == 403
    response = page.goto("/granskning/arende?referens=SSPF-2026-0001")
    assert response is not None
    assert response.status == 403
