"""The auditor's report in Swedish (issue 15, item 9) and form errors in the title (item 10)."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.auditing.labels import route_label
from domain.auditing.service import CSV_COLUMNS, CSV_COLUMNS_SV
from tests.api.conftest import World, app_routes, token_for
from tests.api.test_cases import open_case
from tests.api.test_pages import csrf_from, log_in

RAW_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")  # case.read, audit.access_report


def visible_text(html: str) -> str:
    """The page's text as a reader sees it: without tags, attributes and the CSRF token."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no title"
    return unescape(match.group(1)).strip()


def summary_rows(html: str) -> dict[str, list[str]]:
    """The per-person table: the person's name -> the row's cells as text."""
    table = re.search(r'<table class="table people-summary">(.*?)</table>', html, re.S)
    assert table, "no per-person summary on the page"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]:
        cells = [
            " ".join(visible_text(c).split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        rows[cells[0]] = cells
    return rows


def report(client: TestClient, reference: str) -> str:
    page = client.get("/granskning/arende", params={"referens": reference})
    assert page.status_code == 200, page.text
    return page.text


class TestAccessReportPage:
    def test_summary_per_person_above_the_events_in_swedish(
        self, client: TestClient, world: World
    ) -> None:
        worker = token_for(client, world.usernames["social_worker"])
        case = open_case(client, worker)
        coordinator = token_for(client, world.usernames["coordinator"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=coordinator).status_code == 200
        prober = token_for(client, world.usernames["school_contact"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=prober).status_code == 404

        log_in(client, world.usernames["auditor"])
        before = summary_rows(report(client, case["reference"]))
        for _ in range(3):
            assert client.get(f"/api/v1/cases/{case['id']}", headers=worker).status_code == 200
        html = report(client, case["reference"])
        assert html.index('id="per-person"') < html.index('id="handelser"')

        rows = summary_rows(html)
        worker_name = f"Testanvändare social_worker {world.unit.name}"
        worker_row, worker_before = rows[worker_name], before[worker_name]
        # person, role, first, last, reads, all events, denied, basis
        assert worker_row[1] == "Handläggare"
        assert int(worker_row[4]) == int(worker_before[4]) + 3  # the three reads
        assert int(worker_row[5]) == int(worker_before[5]) + 3
        assert int(worker_row[5]) > int(worker_row[4])  # opening the case is no read
        assert worker_row[6] == "0"
        assert worker_row[2] == worker_before[2]  # the first access stays the first
        assert worker_row[7] == "Egen enhet"
        assert worker_row[2] <= worker_row[3]
        coordinator_row = next(v for k, v in rows.items() if "coordinator" in k)
        assert coordinator_row[4] == "1"
        assert coordinator_row[7] == "Samordnare för programmet"
        prober_row = next(v for k, v in rows.items() if "contact_person" in k)
        assert prober_row[4] == "0"
        assert prober_row[6] == "1"  # the refused probe
        assert prober_row[7] == ""

        text = visible_text(html)
        assert "Läste ärendet" in text
        assert "Försökte visa: ärende (via API)" in text  # the probe, by its route
        assert not RAW_CODE.findall(text.replace("Samsyn.", "")), RAW_CODE.findall(text)
        assert "{case_id}" not in text

    def test_the_report_links_both_csv_variants(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        log_in(client, world.usernames["auditor"])
        html = client.get("/granskning/arende", params={"referens": case["reference"]}).text
        assert f'href="/granskning/export.csv?referens={case["reference"]}"' in html
        assert f'href="/granskning/export.csv?referens={case["reference"]}&amp;kolumner=en"' in html


class TestCsvExport:
    def test_swedish_columns_by_default_for_a_spreadsheet(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        log_in(client, world.usernames["auditor"])
        response = client.get("/granskning/export.csv", params={"referens": case["reference"]})
        assert response.status_code == 200, response.text
        assert response.text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff")), delimiter=";"))
        assert rows[0] == CSV_COLUMNS_SV
        assert rows[0][:6] == ["tid", "användar-id", "användare", "enhet", "roll", "händelse"]
        created = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if "case.create" in r)
        assert created["händelse"] == "Öppnade ärendet"
        assert created["händelsekod"] == "case.create"
        assert created["utfall"] == "Tillåten"
        assert created["grund"] == "Egen enhet"

    def test_english_columns_for_machines(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        log_in(client, world.usernames["auditor"])
        response = client.get(
            "/granskning/export.csv", params={"referens": case["reference"], "kolumner": "en"}
        )
        assert response.status_code == 200, response.text
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert list(rows[0]) == CSV_COLUMNS
        assert "case.create" in [row["action"] for row in rows]

    def test_an_unknown_column_language_is_refused(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get("/granskning/export.csv", params={"kolumner": "fr"})
        assert response.status_code == 422
        assert "Välj kolumnnamn" in response.text

    def test_the_export_records_which_columns(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["auditor"])
        assert client.get("/granskning/export.csv", params={"kolumner": "en"}).status_code == 200
        auditor = token_for(client, world.usernames["auditor"])
        exports = client.get(
            "/api/v1/audit/events", params={"action": "audit.export"}, headers=auditor
        ).json()
        assert exports["items"][0]["basis"]["columns"] == "en"


def test_every_route_a_denial_can_name_has_swedish_words(app: FastAPI) -> None:
    """A denied request is logged by its route; a route with a segment missing from
    SEGMENT_LABELS would reach the auditor as a path."""
    missing = sorted(
        f"{method} {path}"
        for method, path in app_routes(app, "/")
        if route_label(f"{method} {path}") is None
    )
    assert not missing, f"add their segments to domain/auditing/labels.py: {missing}"


class TestErrorsInTheTitle:
    def test_a_failed_login_says_fel_and_focuses_the_summary(self, client: TestClient) -> None:
        page = client.get("/logga-in")
        response = client.post(
            "/logga-in",
            data={
                "username": "ingen-sadan",
                "password": "fel-losenord",
                "csrf_token": csrf_from(page.text),
            },
        )
        assert response.status_code in (400, 401, 422), response.text
        assert title(response.text).startswith("Fel: Logga in")
        summary = re.search(r'<div class="error-summary"[^>]*>', response.text)
        assert summary, "no error summary"
        assert "autofocus" in summary.group(0)
        assert 'tabindex="-1"' in summary.group(0)

    def test_the_login_page_without_errors_has_no_fel(self, client: TestClient) -> None:
        html = client.get("/logga-in").text
        assert title(html) == "Logga in – Samsyn"
        assert "error-summary" not in html

    def test_closing_a_case_without_an_outcome_says_fel(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case['id']}")
        assert title(page.text).startswith("Ärende")
        response = client.post(
            f"/arenden/{case['id']}/status",
            data={
                "csrf_token": csrf_from(page.text),
                "version": str(case["version"]),
                "target": "closed",
                "outcome": "",
            },
        )
        assert response.status_code == 422, response.text
        assert title(response.text).startswith("Fel: Ärende")
        assert title(response.text).count("Fel:") == 1

    def test_a_template_that_says_fel_itself_gets_it_once(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get("/granskning/arende", params={"referens": "SSPF-1999-9999"})
        assert response.status_code == 422
        assert title(response.text) == "Fel: Åtkomst till ett ärende – Samsyn"
