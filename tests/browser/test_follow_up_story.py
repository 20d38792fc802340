"""The agreement follow-up in Chromium (issue 14, "How it will be checked"): the coordinator
reads the demo's Västerås-like agreement, produces the T2 2026 follow-up of its SSPF
activity, writes the narrative and publishes it with the keyboard; a second publication of
the same report is refused with a clear message. The steering group then lands on the
dashboard, sees the published charts and tables, downloads the CSV and the PDF, and can
neither change the agreement nor reach the reports. axe checks every page.

The test has its own server: publishing freezes the agreement's grid, which the other browser
tests' demo must not see. The steering group's test reads what the coordinator's test
published, so the two run in this order (pytest keeps the file's order, and the browser group
runs on one worker).

No number is asserted: the demo's volume may change. What is asserted is the structure, the
suppression mark and its legend, and that no personal data reaches the steering group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from domain.demo import FIRST_NAMES, SURNAMES
from domain.statistics.spec import SUPPRESSED_LEGEND, SUPPRESSED_MARK
from tests.browser.conftest import (
    DEMO_PASSWORD,
    PERSONNUMMER,
    Server,
    _serve,
    assert_accessible,
    login,
    save_screenshot,
)

pytestmark = pytest.mark.browser

AGREEMENT = "Samverkansöverenskommelse Demokommun 2023–2027 (demo)"
ACTIVITY = "SSPF på Ekbackens skola (demo)"
PERIOD = "2026-T2"
NARRATIVE = (
    "Under tertialet har skolan och socialtjänsten hållit nätverksmöten varje vecka. "
    "Målet om samtycken är inte bedömt än."
)
PUBLISHED_MESSAGE = "Rapporten är redan publicerad och ändras aldrig."
PERSON_NAMES = re.compile(
    r"\b("
    + "|".join(sorted({*(n for names in FIRST_NAMES.values() for n in names), *SURNAMES}))
    + r")\b"
)
MAX_TABS = 200
HEADING = re.compile("^" + re.escape(f"{ACTIVITY}, T2 2026"))
EITHER_HEADING = re.compile("^" + re.escape(f"{ACTIVITY}, T") + "[12] 2026")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("samsyn-follow-up"))


def _no_personal_data(text: str, where: str) -> None:
    assert not PERSONNUMMER.search(text), f"a personnummer-like string on {where}"
    found = PERSON_NAMES.search(text)
    assert found is None, f"the demo name {found.group(0) if found else ''!r} on {where}"


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element `selector` names has the focus (a form reached with the
    keyboard alone, in the page's own order)."""
    target = page.locator(selector)
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{selector} was not reached with {MAX_TABS} presses of Tab", pytrace=False)


def test_the_coordinator_publishes_the_t2_follow_up(page: Page) -> None:
    login(page, "samordnare")

    # The agreement as the demo set it up: parties, goal areas A–H, activities and targets.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Överenskommelser"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Samverkansöverenskommelser")
    assert_accessible(page)
    page.get_by_role("link", name=AGREEMENT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(AGREEMENT)
    parties = page.locator("#parter + ul li")
    expect(parties).to_have_count(4)
    expect(parties.first).to_have_text(re.compile(r"^\s*Demokommun\b"))  # and its remove button
    goal_areas = page.locator("#malomraden + ul li")
    expect(goal_areas).to_have_count(8)
    for index, letter in enumerate("ABCDEFGH"):
        expect(goal_areas.nth(index)).to_have_text(re.compile(rf"^{letter}\. "))
    expect(page.get_by_role("heading", level=3, name=ACTIVITY)).to_be_visible()
    expect(page.get_by_role("heading", level=3, name="SIG 12–17 (demo)")).to_be_visible()
    sspf_targets = page.get_by_role("table", name=f"Mål för {ACTIVITY}")
    expect(sspf_targets).to_contain_text("Bryta loss minst 15 unga")
    expect(sspf_targets).to_contain_text("Första mötet inom 14 dagar från aktualisering")
    expect(page.get_by_role("button", name="Lägg till parten")).to_be_visible()
    assert_accessible(page)
    # The activity's own form, filled with what is saved; back without a change.
    page.get_by_role("link", name=f"Ändra aktiviteten {ACTIVITY}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ändra aktiviteten {ACTIVITY}")
    expect(page.get_by_label(re.compile("^Aktivitet"))).to_have_value(ACTIVITY)
    assert_accessible(page)
    page.get_by_role("link", name=f"Tillbaka till {AGREEMENT}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(AGREEMENT)
    # A goal area's form likewise: its title, the letter fixed.
    page.get_by_role("link", name="Ändra målområde A").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ändra målområde A")
    expect(page.get_by_label("Målområde", exact=True)).to_have_value(re.compile(r"\S"))
    assert_accessible(page)
    page.get_by_role("link", name=f"Tillbaka till {AGREEMENT}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(AGREEMENT)
    # And a target's: the saved indicator, kind, comparison, value and wording.
    sspf_targets.get_by_role("link", name="Ändra målet Bryta loss minst 15 unga").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ändra målet Bryta loss minst 15 unga"
    )
    expect(page.get_by_label("Målvärde", exact=True)).to_have_value("15")
    assert_accessible(page)
    page.get_by_role("link", name=f"Tillbaka till {AGREEMENT}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(AGREEMENT)

    # The T2 2026 report of the SSPF activity: its preview.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Uppföljningsrapporter"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uppföljningsrapporter")
    assert_accessible(page)
    period = page.get_by_label(f"Period för {ACTIVITY}")
    period.select_option(PERIOD)
    period.locator("xpath=ancestor::form").get_by_role("button", name="Öppna rapporten").click()
    expect(page).to_have_url(re.compile(rf"period={PERIOD}"))
    report_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADING)
    expect(page.get_by_text("Utkast, inte publicerat.")).to_be_visible()
    expect(page.get_by_role("heading", name="Är målet nått?", exact=True)).to_be_visible()
    targets = page.get_by_role("table", name="Mål för aktiviteten och utfall")
    expect(targets.locator("thead th")).to_have_text(
        ["Mål", "Målvärde", "Utfall", "Är målet nått?"]
    )
    expect(targets.locator("tbody tr")).to_have_count(4)  # the demo's four SSPF targets
    for row in targets.locator("tbody tr").all():
        expect(row.locator("td").last).to_have_text(re.compile("^(Ja|Nej|Kan inte bedömas)$"))
    tables = page.locator("table:has(caption:not(.visually-hidden))")
    assert tables.count() > 0, "the preview shows no indicator table"
    suppressed = page.locator("td abbr[title='Visas inte']")
    assert suppressed.count() > 0, "the demo's small numbers show no suppressed cell"
    expect(suppressed.first).to_have_text(SUPPRESSED_MARK)
    expect(page.locator("p.legend")).to_have_text(SUPPRESSED_LEGEND)
    assert_accessible(page)
    save_screenshot(page, "follow-up-preview")

    # A second tab keeps the report open before it is published, as a forgotten tab would.
    stale = page.context.new_page()
    stale.goto(report_url)
    expect(stale.get_by_role("button", name="Publicera rapporten")).to_be_visible()

    # The narrative.
    page.get_by_label("Är målet nått? Vilka aktiviteter har genomförts?").fill(NARRATIVE)
    page.get_by_role("button", name="Spara kommentaren").click()
    expect(page.get_by_role("status")).to_have_text("Kommentaren är sparad.")
    expect(page.get_by_label("Är målet nått? Vilka aktiviteter har genomförts?")).to_have_value(
        NARRATIVE
    )

    # Publishing with the keyboard: without the confirmation first, then with it (Space).
    _tab_to(page, "button:has-text('Publicera rapporten')")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Bekräfta att rapporten ska publiceras.")
    expect(page).to_have_title(re.compile("^Fel: "))
    expect(page.get_by_text("Utkast, inte publicerat.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("alert").get_by_role("link").first.focus()
    _tab_to(page, "#bekrafta")
    page.keyboard.press("Space")
    expect(page.locator("#bekrafta")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Publicera rapporten")).to_be_focused()
    page.keyboard.press("Enter")

    # The frozen release: its SHA-256, its files, the narrative as written.
    expect(page).to_have_url(re.compile(r"/uppfoljning/publicerat/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADING)
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("SHA-256 för publiceringen")
    expect(summary.locator("code.hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    files = page.get_by_role("table", name="Filer och deras SHA-256")
    for kind in ("PDF", "CSV", "JSON"):
        expect(files.get_by_role("link", name=kind)).to_be_visible()
    expect(files.locator("code.hash")).to_have_text([re.compile(r"^[0-9a-f]{64}$")] * 3)
    expect(page.locator("p.narrative")).to_have_text(NARRATIVE)
    expect(page.locator("p.legend")).to_have_text(SUPPRESSED_LEGEND)
    assert_accessible(page)
    save_screenshot(page, "follow-up-release")
    release_path = urlparse(page.url).path

    # A form posted from elsewhere (no CSRF token) is refused and changes nothing.
    query = dict(parse_qsl(urlparse(report_url).query))
    forged = page.request.post(
        "/uppfoljning/rapporter/rattelse", form={**query, "version": "3"}, max_redirects=0
    )
    assert forged.status == 403

    # The report is published: its page offers no publication, only a correction.
    page.goto(report_url)
    expect(page.get_by_text(re.compile(r"Status: Publicerad som nr \d+\."))).to_be_visible()
    expect(page.get_by_role("button", name="Publicera rapporten")).to_have_count(0)
    expect(page.get_by_label("Är målet nått? Vilka aktiviteter har genomförts?")).to_have_count(0)
    expect(page.get_by_role("button", name="Gör en rättelse")).to_be_visible()
    assert_accessible(page)

    # The forgotten tab publishes again: 409, a clear message, nothing new in the ledger.
    stale.get_by_label("Jag har granskat rapporten.", exact=False).check()
    with stale.expect_response(
        lambda r: r.url.endswith("/uppfoljning/rapporter/publicera")
    ) as posted:
        stale.get_by_role("button", name="Publicera rapporten").click()
    assert posted.value.status == 409
    expect(stale.get_by_role("alert")).to_contain_text(PUBLISHED_MESSAGE)
    assert_accessible(stale)
    stale.close()
    page.goto("/uppfoljning/rapporter")
    ledger = page.get_by_role("table", name="Alla publiceringar")
    expect(ledger.locator("tbody tr")).to_have_count(1)
    expect(ledger.get_by_role("link")).to_have_attribute("href", release_path)


@pytest.fixture
def a_release(server: Server) -> None:
    """The steering group's test must not depend on running after the coordinator's (xdist
    does not promise the order): the coordinator publishes the activity's T1 2026 through
    the JSON API first, so the dashboard has a release either way."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "samordnare", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        agreement = next(
            a for a in client.get("/api/v1/agreements").json() if a["name"] == AGREEMENT
        )
        activities = client.get(f"/api/v1/agreements/{agreement['id']}").json()["activities"]
        activity = next(a for a in activities if a["name"] == ACTIVITY)
        key = {"agreement_id": agreement["id"], "activity_id": activity["id"], "period": "2026-T1"}
        saved = client.put(
            "/api/v1/follow-up/reports/narrative",
            json={**key, "narrative": NARRATIVE, "version": 0},
        )
        assert saved.status_code == 200, saved.text
        published = client.post(
            "/api/v1/follow-up/reports/publish", json={**key, "version": saved.json()["version"]}
        )
        assert published.status_code == 201, published.text


@pytest.mark.usefixtures("a_release")
def test_the_steering_group_reads_the_dashboard_and_downloads_the_report(page: Page) -> None:
    login(page, "styrgrupp")
    expect(page).to_have_url(re.compile(r"/uppfoljning$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Uppföljning av samverkansöverenskommelsen"
    )
    expect(page.get_by_text("Inget är publicerat ännu.")).to_have_count(0)  # the test above
    expect(page.get_by_role("heading", level=2, name=AGREEMENT)).to_be_visible()
    board = page.locator("section.board", has=page.get_by_role("heading", name=ACTIVITY))
    latest = re.compile(r"Senast publicerat: T[12] 2026\b[^,]*, publicering nr \d+")
    expect(board).to_contain_text(latest)

    # Each chart is an SVG image named by its title, beside a table of the same numbers.
    charts = board.locator("figure.chart-figure svg[role='img']")
    assert charts.count() >= 1, "the dashboard shows no chart"
    for chart in charts.all():
        title = chart.locator("title").first
        expect(title).not_to_have_text("")
        name = title.text_content() or ""
        expect(board.get_by_role("img", name=re.compile("^" + re.escape(name)))).to_have_count(1)
        table = chart.locator("xpath=ancestor::div[contains(@class,'chart-pair')]//table")
        expect(table.locator("caption")).to_have_text(name)
        assert table.locator("tbody tr").count() >= 1, f"the table beside {name!r} is empty"
    # Even the demo's small activity publishes its key totals: the board shows numbers.
    key_figures = board.locator("table", has=page.locator("caption", has_text="Nyckeltal"))
    shown = key_figures.locator("tbody td").all_text_contents()
    assert any(cell.isdigit() for cell in shown), f"no key figure is published: {shown}"
    expect(page.locator("p.legend")).to_have_text(SUPPRESSED_LEGEND)
    assert_accessible(page)
    save_screenshot(page, "follow-up-dashboard")
    _no_personal_data(page.content(), "the dashboard")

    # The downloads: the CSV with Swedish headers and the legend, the PDF as a PDF.
    with page.expect_download() as download:
        board.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")
    csv_link = board.get_by_role("link", name="CSV").first.get_attribute("href")
    assert csv_link is not None
    response = page.request.get(csv_link)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    content = response.body().decode("utf-8-sig")
    lines = content.splitlines()
    assert lines[0].startswith("Rapport;")
    assert "Överenskommelse;" + AGREEMENT in lines
    assert "Aktivitet;" + ACTIVITY in lines
    assert "Indikator;Mål;Utfall;Är målet nått?" in lines
    assert lines[-1] == SUPPRESSED_LEGEND
    assert f";{SUPPRESSED_MARK}" in content, "the CSV marks no suppressed cell"
    assert NARRATIVE in content
    _no_personal_data(content, "the CSV")

    pdf_link = board.get_by_role("link", name="PDF").first.get_attribute("href")
    assert pdf_link is not None
    with page.expect_download() as download:
        board.get_by_role("link", name="PDF").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    response = page.request.get(pdf_link)
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body() == pdf  # frozen: the same bytes every time

    # The frozen release reads the same for the steering group, without personal data.
    board.get_by_role("link", name="Visa rapporten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(EITHER_HEADING)
    expect(page.locator("p.narrative")).to_have_text(NARRATIVE)
    assert_accessible(page)
    _no_personal_data(page.content(), "the published release")

    # The agreement is read-only, and the reports are not the steering group's.
    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu.get_by_role("link", name="Uppföljningsrapporter")).to_have_count(0)
    menu.get_by_role("link", name="Överenskommelser").click()
    expect(page.get_by_role("link", name="Ny överenskommelse")).to_have_count(0)
    page.get_by_role("link", name=AGREEMENT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(AGREEMENT)
    expect(page.locator("main form")).to_have_count(0)
    expect(page.get_by_role("link", name="Ändra överenskommelsen")).to_have_count(0)
    expect(page.get_by_role("table", name=f"Mål för {ACTIVITY}")).to_be_visible()
    assert_accessible(page)
    _no_personal_data(page.content(), "the agreement")
    page.goto("/uppfoljning")
    expect(page.get_by_role("link", name=re.compile("Uppföljningsrapporter"))).to_have_count(0)

    refused = page.goto("/uppfoljning/rapporter")
    assert refused is not None
    assert refused.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har inte behörighet")
    assert_accessible(page)
