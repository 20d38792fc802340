"""The administrator changes the municipality's configuration in Chromium (issue 15, item 2):
a consent age (with a bad value first) and a cylinder level's wording, then reads both changes
in the history. axe checks every page. The test has its own server, so the changed ages and
wording never reach the other browser tests' demo."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, _serve, assert_accessible, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("samsyn-configuration"))


def test_the_administrator_changes_a_consent_age_and_a_level_and_reads_the_history(
    page: Page,
) -> None:
    login(page, "forvaltare")
    page.goto("/admin/installningar")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kommunens inställningar")
    assert_accessible(page)

    page.get_by_role("link", name="Samtyckesåldrar").click()
    young = page.get_by_label("Den unga skriver under också från (år)")
    expect(young).to_have_value("15")
    young.fill("fjorton")
    page.get_by_role("button", name="Spara samtyckesåldrar").click()
    expect(page.get_by_role("alert")).to_contain_text("Ange en ålder i hela år, 12–18.")
    expect(page).to_have_title(re.compile("^Fel: Samtyckesåldrar"))
    assert_accessible(page)
    page.get_by_label("Den unga skriver under också från (år)").fill("14")
    page.get_by_role("button", name="Spara samtyckesåldrar").click()
    expect(page.get_by_role("status")).to_have_text("Samtyckesåldrarna är sparade.")
    expect(
        page.get_by_text(re.compile("Nu gäller: den unga skriver under också från 14 år"))
    ).to_be_visible()
    assert_accessible(page)

    page.goto("/admin/installningar/cylindernivaer")
    assert_accessible(page)
    page.get_by_role("link", name="Ändra nivå A").click()
    assert_accessible(page)
    page.get_by_label("Formulering").fill("Kommunens egen formulering för nivå A")
    page.get_by_role("button", name="Spara nivå A").click()
    expect(page.get_by_role("status")).to_have_text("Ändringen är sparad.")
    expect(page.get_by_role("table")).to_contain_text("Kommunens egen formulering för nivå A")

    page.goto("/admin/installningar")
    page.get_by_role("link", name="Historik över ändringar").click()
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ändrade: cylindernivå")
    expect(rows.nth(0)).to_contain_text("Kommunens egen formulering för nivå A")
    expect(rows.nth(1)).to_contain_text("Ändrade: samtyckesåldrar")
    expect(rows.nth(1)).to_contain_text("från 15 år och ensam från 18 år")
    expect(rows.nth(1)).to_contain_text("från 14 år och ensam från 18 år")
    assert_accessible(page)
