"""Meetings and minutes in Chromium: the social worker schedules a meeting on a demo case,
writes items in several categories (one for her own agency only), finalises and amends; the
school contact prints the minutes to PDF, and the PDF holds exactly the items the consent lets
the school see, with the reader's name, agency and time in the footer. axe checks every page."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from pypdf import PdfReader

from common.clock import today
from tests.browser.conftest import Server, assert_accessible, login

pytestmark = pytest.mark.browser
SCHOOL_CONTACT = "Sven Skolkurator (demo)"
SCHOOL = "Ekbackens skola (demo)"
PLACE = "Rum Utskriften (demo)"
SHOWN = ("Skolnärvaro under hösten", "Närvaron har ökat till åttio procent.")
AMENDED = ("Skolnärvaro, rättad", "Närvaron har ökat till åttiofem procent.")
SOCIAL = ("Hemförhållanden", "Familjebehandlaren träffar familjen varje vecka.")
OWN = ("Intern anteckning", "Handläggarens egen bedömning av risken.")


def a_case_with_the_school_on_its_team(page: Page) -> str:
    """A demo case that is active and has the school contact (under consent) on its team."""
    page.goto("/arenden?status=active")
    links = page.locator("main table a[href^='/arenden/']")
    urls = [links.nth(n).get_attribute("href") for n in range(links.count())]
    for url in urls:
        assert url is not None
        page.goto(url)
        team = page.get_by_role("table").filter(has=page.get_by_text("Roll i ärendet"))
        if team.get_by_text(SCHOOL_CONTACT).count():
            return url
    pytest.fail("the demo has no active case with the school contact on its team")


def write_item(
    form: Locator, heading: str, text: str, category: str, *, own_agency: bool = False
) -> None:
    form.get_by_label("Rubrik").fill(heading)
    form.get_by_label("Text").fill(text)
    form.get_by_label("Informationskategori").select_option(label=category)
    if own_agency:
        form.get_by_label("Bara min organisation").check()
    form.get_by_role("button").click()


def test_the_school_prints_only_what_the_consent_allows(
    page: Page, browser: Browser, server: Server
) -> None:
    login(page, "handlaggare")
    case_url = a_case_with_the_school_on_its_team(page)
    page.get_by_role("link", name="Möten och protokoll").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Möten i ärende")
    assert_accessible(page)

    schedule = page.locator(f"form[action='{case_url}/moten']")
    schedule.get_by_label("Typ av möte").select_option(label="Nätverksmöte")
    schedule.get_by_label("Datum (ÅÅÅÅ-MM-DD)").fill((today() + timedelta(days=1)).isoformat())
    schedule.get_by_label("Börjar (TT:MM)").fill("10:00")
    schedule.get_by_label("Slutar (TT:MM)").fill("11:00")
    schedule.get_by_label("Plats").fill(PLACE)
    schedule.get_by_label(f"{SCHOOL_CONTACT} – {SCHOOL}").check()
    schedule.get_by_role("button", name="Planera mötet").click()
    expect(page.get_by_role("status")).to_have_text("Mötet är inlagt.")
    meeting_url = page.url.split("?")[0]
    assert_accessible(page)

    new_item = page.locator(f"form[action='{meeting_url.removeprefix(server.url)}/punkter']")
    write_item(new_item, *SHOWN, "Skola")
    expect(page.get_by_role("status")).to_have_text("Punkten är tillagd.")
    write_item(new_item, *SOCIAL, "Socialtjänst")
    write_item(new_item, *OWN, "Skola", own_agency=True)
    page.get_by_role("button", name="Justera och fastställ protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Protokollet är justerat och fastställt.")
    item = page.get_by_role("article", name=SHOWN[0])
    item.get_by_text("Rätta punkten").click()
    write_item(item.locator("form"), *AMENDED, "Skola")
    expect(page.get_by_role("status")).to_have_text("Rättelsen är tillagd.")
    expect(item.get_by_text("Rättelse", exact=True)).to_be_visible()
    assert_accessible(page)

    context = browser.new_context(base_url=server.url, locale="sv-SE")
    school = context.new_page()
    login(school, "skola")
    school.goto(meeting_url.removeprefix(server.url))
    expect(school.get_by_role("heading", name=SHOWN[0])).to_be_visible()
    expect(school.get_by_text(SOCIAL[0])).to_have_count(0)
    assert_accessible(school)
    school.get_by_role("link", name="Utskriftsvänligt protokoll").click()
    expect(school.get_by_role("heading", level=1)).to_contain_text("Protokoll")
    assert_accessible(school)

    pdf = school.pdf(format="A4")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages)
    for shown in (*SHOWN, *AMENDED, PLACE):
        assert shown in text, f"{shown!r} is missing from the PDF: {text}"
    reader_line = f"Utskrivet av {SCHOOL_CONTACT}, {SCHOOL}, "
    footer = re.escape(reader_line) + r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert re.search(footer, text), text
    for hidden in (*SOCIAL, *OWN):
        assert hidden not in text
    assert "Hoppa till innehållet" not in text  # no navigation on paper
    assert "Logga ut" not in text
    context.close()
