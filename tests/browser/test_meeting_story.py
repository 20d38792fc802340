"""Issue 12's story in Chromium, as the demo's people would live it.

The social worker calls an emergency-stop meeting on an active demo case, records that the
young person and one guardian came, writes items in several categories (one for social
services only), the school contact adds an item for the school only, the chair finalises and
amends one item. The police and the school contacts each see exactly the items their consent
and agency allow, on the page and on paper; the start page shows them the emergency first and
the school its overdue commitment; the calendar file carries no name or personnummer. After a
withdrawal, neither partner sees anything of the case any more.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import PERSONNUMMER, Server, assert_accessible, login

pytestmark = pytest.mark.browser
SCHOOL_CONTACT = "Sven Skolkurator (demo)"
POLICE_CONTACT = "Petra Polis (demo)"
PLACE = "Skolans samtalsrum (story, demo)"

SCHOOL_ITEM = ("Frånvaro senaste veckan", "Tre dagars ogiltig frånvaro (story).")
POLICE_ITEM = ("Händelse i centrum", "Den unga fanns med vid ett bråk i fredags (story).")
SOCIAL_ITEM = ("Hemsituationen", "Familjen har fått stöd av familjebehandlare (story).")
OWN_ITEM = ("Socialtjänstens bedömning", "Intern riskbedömning (story).")
SCHOOL_OWN = ("Skolans egen notering", "Elevhälsan följer upp (story).")
AMENDMENT = ("Frånvaro, rättad", "Två dagars ogiltig frånvaro, inte tre (story).")

POLICE_SEES = (SCHOOL_ITEM, POLICE_ITEM, AMENDMENT)
SCHOOL_SEES = (*POLICE_SEES, SCHOOL_OWN)
NOBODY_ELSE_SEES = (SOCIAL_ITEM, OWN_ITEM)


@pytest.fixture
def partner(browser: Browser, server: Server) -> Iterator[dict[str, Page]]:
    contexts: list[BrowserContext] = []
    pages: dict[str, Page] = {}
    for username in ("skola", "polis"):
        context = browser.new_context(base_url=server.url, locale="sv-SE")
        context.set_default_timeout(15_000)
        contexts.append(context)
        pages[username] = context.new_page()
        login(pages[username], username)
    yield pages
    for context in contexts:
        context.close()


def a_story_case(page: Page) -> str:
    """An active demo case of the second demo social worker's with the school and police
    contacts on its team: not the first such case (other browser tests use that one) and not
    the plan's (the last)."""
    page.goto("/arenden?status=active")
    links = page.locator("main table a[href^='/arenden/']")
    found = []
    for url in [links.nth(n).get_attribute("href") for n in range(links.count())]:
        assert url is not None
        page.goto(url)
        team = page.get_by_role("table").filter(has=page.get_by_text("Roll i ärendet"))
        if team.get_by_text(SCHOOL_CONTACT).count() and team.get_by_text(POLICE_CONTACT).count():
            found.append(url)
    assert len(found) >= 3, "the demo should have three active cases with school and police"
    return found[1]


def write_item(
    form: Locator, item: tuple[str, str], category: str, *, own_agency: bool = False
) -> None:
    form.get_by_label("Rubrik").fill(item[0])
    form.get_by_label("Text").fill(item[1])
    form.get_by_label("Informationskategori").select_option(label=category)
    if own_agency:
        form.get_by_label("Bara min organisation").check()
    form.get_by_role("button").click()


def pdf_text(page: Page) -> str:
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    return " ".join(re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages)


def test_emergency_meeting_minutes_and_withdrawal(
    page: Page, partner: dict[str, Page], server: Server
) -> None:
    school, police = partner["skola"], partner["polis"]
    login(page, "handlaggare2")  # the case owner: she may call an emergency-stop meeting
    case_url = a_story_case(page)
    page.goto(case_url)
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Ärende ")

    # The social worker calls an emergency-stop meeting for tomorrow morning.
    page.goto(f"{case_url}/moten")
    emergency = page.locator(f"form[action='{case_url}/moten/nodstopp']")
    young = emergency.locator("label", has_text="(den unga)").inner_text()
    guardians = emergency.locator("label", has_text="(vårdnadshavare)").all_inner_texts()
    names = [young.removesuffix(" (den unga)")] + [
        g.removesuffix(" (vårdnadshavare)") for g in guardians
    ]
    emergency.get_by_label(re.compile(r"^I morgon")).check()
    emergency.get_by_label("Börjar (TT:MM)").fill("08:00")
    emergency.get_by_label("Slutar (TT:MM)").fill("09:00")
    emergency.get_by_label("Plats").fill(PLACE)
    emergency.get_by_label(young).check()
    emergency.get_by_label(guardians[0]).check()
    emergency.get_by_label(re.compile(f"^{re.escape(SCHOOL_CONTACT)} – ")).check()
    emergency.get_by_label(re.compile(f"^{re.escape(POLICE_CONTACT)} – ")).check()
    emergency.get_by_role("button", name="Kalla till nödstoppsmöte").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nödstoppsmöte")
    meeting = page.url.split("?")[0].removeprefix(server.url)
    assert_accessible(page)

    # Who came: the young person and one guardian.
    attendance = page.locator(f"form[action='{meeting}/narvaro']")
    attendance.locator("tr", has_text="Den unga").get_by_role("combobox").select_option(
        label="Närvarande"
    )
    attendance.locator("tr", has_text="Vårdnadshavare").first.get_by_role("combobox").select_option(
        label="Närvarande"
    )
    attendance.get_by_role("button", name="Spara närvaron").click()
    expect(page.get_by_role("status")).to_be_visible()
    rows = page.locator(f"form[action='{meeting}/narvaro'] tr")
    expect(rows.filter(has_text="Den unga").get_by_role("combobox")).to_have_value("came")

    # Items in several categories, one kept within social services.
    new_item = page.locator(f"form[action='{meeting}/punkter']")
    write_item(new_item, SCHOOL_ITEM, "Skola")
    expect(page.get_by_role("status")).to_have_text("Punkten är tillagd.")
    write_item(new_item, POLICE_ITEM, "Polis")
    write_item(new_item, SOCIAL_ITEM, "Socialtjänst")
    write_item(new_item, OWN_ITEM, "Socialtjänst", own_agency=True)

    # The school contact adds a note for the school only, while the minutes are a draft.
    school.goto(meeting)
    write_item(
        school.locator(f"form[action='{meeting}/punkter']"), SCHOOL_OWN, "Skola", own_agency=True
    )
    expect(school.get_by_role("status")).to_have_text("Punkten är tillagd.")

    # The chair finalises, then corrects the school item with an amendment.
    page.reload()
    page.get_by_role("button", name="Justera och fastställ protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Protokollet är justerat och fastställt.")
    corrected = page.get_by_role("article", name=SCHOOL_ITEM[0])
    corrected.get_by_text("Rätta punkten").click()
    write_item(corrected.locator("form"), AMENDMENT, "Skola")
    expect(page.get_by_role("status")).to_have_text("Rättelsen är tillagd.")
    for item in (SCHOOL_ITEM, POLICE_ITEM, SOCIAL_ITEM, OWN_ITEM, AMENDMENT):
        expect(page.get_by_text(item[1])).to_be_visible()
    expect(page.get_by_text(SCHOOL_OWN[1])).to_have_count(0)  # the school's own
    assert_accessible(page)

    # Each partner sees exactly what consent and agency allow, on the page and on paper.
    for reader, sees in ((police, POLICE_SEES), (school, SCHOOL_SEES)):
        reader.goto(meeting)
        for item in sees:
            expect(reader.get_by_text(item[1])).to_be_visible()
        hidden = [i for i in (*SCHOOL_SEES, *NOBODY_ELSE_SEES) if i not in sees]
        for item in hidden:
            expect(reader.get_by_text(item[0])).to_have_count(0)
            expect(reader.get_by_text(item[1])).to_have_count(0)
        assert_accessible(reader)
        reader.goto(f"{meeting}/utskrift")
        printed = pdf_text(reader)
        for item in sees:
            assert item[1] in printed, printed
        for item in hidden:
            assert item[0] not in printed, printed
            assert item[1] not in printed, printed

    # The calendar file names the case, the kind, the time and the place, and no person.
    invitation = police.request.get(f"{meeting}/kalender.ics")
    assert invitation.status == 200
    ics = invitation.text()
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"{reference}: Nödstoppsmöte"
    assert str(event["LOCATION"]) == PLACE
    ics = ics.replace("\r\n ", "")  # unfolded, for the search below
    for name in (*names, SCHOOL_CONTACT, POLICE_CONTACT, "Hugo Handläggare"):
        for part in name.split():
            if part != "(demo)":
                assert part not in ics, f"{part!r} leaves the system in the calendar file"
    assert not PERSONNUMMER.search(ics), "a personnummer-like string in the calendar file"

    # The start page: the emergency first for both partners, the school's overdue commitment.
    for reader in (police, school):
        reader.goto("/start")
        alert = reader.get_by_role("region", name="Nödstoppsmöten")
        expect(
            alert.get_by_role("link", name=f"Nödstoppsmöte i ärende {reference}")
        ).to_be_visible()
        assert_accessible(reader)
    commitments = school.get_by_role("region", name="Mina och min organisations åtaganden")
    expect(commitments.get_by_text("Försenat").first).to_be_visible()

    # The social worker withdraws one signer's consent: the partners see nothing of the case.
    page.goto(f"{case_url}/samtycken")
    page.get_by_role("button", name=re.compile("^Återkalla")).first.click()
    expect(page.get_by_role("status")).to_contain_text("Samtycket är återkallat")
    for reader in (police, school):
        response = reader.goto(meeting)
        assert response is not None
        assert response.status == 404
        for item in SCHOOL_SEES:
            expect(reader.get_by_text(item[1])).to_have_count(0)
        reader.goto("/start")
        expect(reader.get_by_text(reference)).to_have_count(0)
        expect(reader.get_by_text(PLACE)).to_have_count(0)
