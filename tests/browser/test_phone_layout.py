"""Samsyn on a phone (390×844, issue 15 item 7) and the focus after a failed login (item 10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, Server, assert_accessible, login

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DEMO_ROLES = [
    "handlaggare",
    "samordnare",
    "skola",
    "polis",
    "fritid",
    "styrgrupp",
    "forvaltare",
    "logggranskare",
]


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def assert_on_screen(locator: Locator) -> None:
    """Visible, and inside the phone's width: not cut off or pushed off to the right."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0, (locator, box)
    assert box["x"] + box["width"] <= PHONE["width"], (locator, box)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_every_menu_item_is_on_the_screen(phone: Page, username: str) -> None:
    login(phone, username)
    menu = phone.get_by_role("navigation", name="Huvudmeny")
    items = menu.get_by_role("link").all()
    assert [i.inner_text() for i in items][-1] == "Mitt konto"
    for item in items:
        assert_on_screen(item)
    assert_on_screen(phone.get_by_role("button", name="Logga ut", exact=True))
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)  # colour contrast included: no white text off the blue header


def test_the_social_workers_break_glass_item_is_on_the_screen(phone: Page) -> None:
    """The item that fell off the screen: "Nödåtkomst" (and "Mitt konto" after it)."""
    login(phone, "handlaggare")
    menu = phone.get_by_role("navigation", name="Huvudmeny")
    for name in ("Nödåtkomst", "Mitt konto"):
        assert_on_screen(menu.get_by_role("link", name=name))
    menu.get_by_role("link", name="Nödåtkomst").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Nödåtkomst")


def test_the_consent_table_scrolls_in_its_box_and_withdraw_is_reachable(phone: Page) -> None:
    login(phone, "handlaggare")
    phone.goto("/arenden")
    cases = phone.get_by_role("table").get_by_role("link")
    for index in range(cases.count()):
        phone.goto("/arenden")
        cases.nth(index).click()
        phone.get_by_role("link", name="Samtycken", exact=True).first.click()
        if phone.get_by_role("button", name="Återkalla").count():
            break
    else:
        pytest.fail("no demo case has a consent to withdraw")
    assert_no_sideways_scroll(phone)
    region = phone.get_by_role("region", name="Registrerade samtycken")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: nothing to test"

    # With the keyboard: the region takes focus and scrolls; the button is reached by Tab.
    region.focus()
    phone.keyboard.press("ArrowRight")
    phone.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())
    withdraw = phone.get_by_role("button", name="Återkalla").first
    withdraw.focus()
    withdraw.scroll_into_view_if_needed()
    assert_on_screen(withdraw)
    assert_accessible(phone)


def test_the_auditors_tables_scroll_in_their_boxes(phone: Page) -> None:
    login(phone, "logggranskare")
    phone.goto("/granskning/arende")
    phone.get_by_label("Ärendereferens").fill("SSPF-2026-0001")
    phone.get_by_role("button", name="Visa åtkomst").click()
    for name in ("Åtkomst per person till ärendet", "Åtkomst till ärendet"):
        region = phone.get_by_role("region", name=name).first
        expect(region).to_be_visible()
        assert region.get_attribute("tabindex") == "0"
        assert region.evaluate("e => e.scrollWidth > e.clientWidth")
        region.focus()
        phone.keyboard.press("ArrowRight")
        phone.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)

    phone.goto("/granskning/nodatkomst")
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)


def test_after_a_failed_login_the_error_summary_has_the_focus(page: Page) -> None:
    page.goto("/logga-in")
    page.get_by_label("Användarnamn").fill("handlaggare")
    page.get_by_label("Lösenord").fill("inte-losenordet")
    page.get_by_role("button", name="Logga in").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns problem att rätta")
    expect(summary).to_be_focused()
    expect(page).to_have_title("Fel: Logga in – Samsyn")
    assert_accessible(page)
    # From the summary, Tab goes on to its link to the field.
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link").first).to_be_focused()
