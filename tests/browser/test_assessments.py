"""The cylinder model in Chromium: the social worker records three assessments on a case and
the case shows the path as an SVG image and the same data as a table; a contact person whose
consent lacks `risk` sees no assessment at all. axe checks each page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from common.clock import today
from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def case_links(page: Page) -> list[str]:
    page.goto("/arenden")
    links = page.locator("main a[href^='/arenden/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [href for href in links if re.fullmatch(r"/arenden/[0-9a-f-]{36}", href)]


def test_three_assessments_make_a_path_and_a_table(page: Page) -> None:
    login(page, "handlaggare")
    for href in case_links(page):
        page.goto(f"{href}/bedomningar")
        if (
            page.get_by_text("Inga bedömningar.").count()
            and page.locator("form #rationale").count()
        ):
            break
    else:
        pytest.fail("no demo case of the social worker without assessments")
    case_url = page.url.split("?")[0]
    assert_accessible(page)
    page.get_by_role("button", name="Spara bedömningen").click()  # empty: Swedish errors
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Välj en nivå.")
    expect(summary).to_contain_text("Skriv en motivering till bedömningen.")
    assert_accessible(page)

    for level, days_ago in (("D", 90), ("B", 45), ("C", 10)):
        page.goto(case_url)
        page.locator(f"#level-{level}").check()
        page.get_by_role("group", name="Riskfaktorer").get_by_role("checkbox").first.check()
        page.get_by_label("Motivering").fill(f"Bedömning {level} i webbläsartestet.")
        page.get_by_role("group", name="Vilka deltog i bedömningen?").get_by_role(
            "checkbox"
        ).first.check()
        page.get_by_label("Datum (om bedömningen inte gjordes vid ett möte)").fill(
            str(today() - timedelta(days=days_ago))
        )
        page.get_by_role("button", name="Spara bedömningen").click()
        expect(page.get_by_role("status")).to_have_text("Bedömningen är sparad.")

    chart = page.get_by_role("img", name=re.compile("Nivå i cylindermodellen över tid"))
    expect(chart).to_be_visible()
    expect(page.locator("svg.step-chart circle.mark")).to_have_count(3)
    expect(page.locator("svg.step-chart path.step-line")).to_have_count(1)
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Första bedömningen")
    expect(rows.nth(1)).to_contain_text("Upp (högre risk)")
    expect(rows.nth(2)).to_contain_text("Ned (lägre risk)")
    expect(page.get_by_text(re.compile(r"^Nuvarande nivå: C"))).to_be_visible()
    assert_accessible(page)


def test_a_contact_without_risk_in_the_consent_sees_no_assessment(page: Page) -> None:
    login(page, "polis")
    links = case_links(page)
    assert links, "the police contact sees demo cases"
    for href in links:
        page.goto(href)
        expect(page.get_by_role("link", name="Bedömningar enligt cylindermodellen")).to_be_visible()
        page.goto(f"{href}/bedomningar")
        expect(page.get_by_text("Inga bedömningar som du kan se.")).to_be_visible()
        expect(page.locator("svg")).to_have_count(0)
        expect(page.get_by_role("table")).to_have_count(0)
        expect(page.locator("form #rationale")).to_have_count(0)
    assert_accessible(page)
