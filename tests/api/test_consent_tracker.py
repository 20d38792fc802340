"""The consent tracker (issue 15, item 6): refusals listed, the missing guardian named, a date
for every row, filters by programme, owner and kind of problem, sorting and a count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.clock import today
from tests.api.conftest import World, token_for
from tests.api.test_consent_sharing import SIXTEEN, Case
from tests.api.test_pages import log_in
from tests.api.test_young_persons import person_body
from tests.builders import valid_personnummer

TRACKER = "/api/v1/consent-tracker"


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def rows_of(case: Case, **params: str) -> list[dict[str, Any]]:
    response = case.client.get(TRACKER, headers=case.owner, params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def open_sig_case(client: TestClient, owner: dict[str, str]) -> str:
    """A SIG case in consent_pending for a 13-year-old with one guardian."""
    born = SIXTEEN.replace(year=SIXTEEN.year + 3)
    body = person_body(personnummer=valid_personnummer(born))
    person = client.post("/api/v1/young-persons", json=body, headers=owner).json()
    case = client.post(
        "/api/v1/cases",
        json={"young_person_id": person["id"], "programme": "SIG"},
        headers=owner,
    ).json()
    moved = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"target": "consent_pending", "version": case["version"]},
        headers=owner,
    )
    assert moved.status_code == 200, moved.text
    case_id: str = case["id"]
    return case_id


class TestWhatIsListed:
    def test_a_refusal_is_listed_with_the_guardian_and_since_when(self, case: Case) -> None:
        five_days_ago = today() - timedelta(days=5)
        case.consent(case.guardians[0], decision="refused", signed_on=five_days_ago)
        assert case.state() == "declined"
        refused = [r for r in rows_of(case) if r["concern"] == "refused"]
        assert [(r["case_id"], r["signer"], r["on"], r["upcoming"]) for r in refused] == [
            (case.id, "Anna Vårdnadshavare (vårdnadshavare)", str(five_days_ago), False)
        ]

    def test_a_missing_guardian_is_named_with_the_date_since(self, case: Case) -> None:
        case.consent(case.guardians[0])
        case.consent("young_person")
        missing = [r for r in rows_of(case) if r["concern"] == "missing"]
        assert [(r["signer"], r["detail"], r["on"]) for r in missing] == [
            ("Erik Vårdnadshavare (vårdnadshavare)", "har inte skrivit under", str(today()))
        ]

    def test_a_lapsed_consent_is_missing_since_the_day_after_it_ended(self, case: Case) -> None:
        ten_days_ago = today() - timedelta(days=10)
        case.consent(
            case.guardians[0], signed_on=ten_days_ago - timedelta(days=20), valid_until=ten_days_ago
        )
        anna = [r for r in rows_of(case) if r["signer"] == "Anna Vårdnadshavare (vårdnadshavare)"]
        # the case opened today, after the consent ran out: missing since the case opened
        assert [(r["concern"], r["detail"], r["on"]) for r in anna] == [
            ("missing", "samtycket har gått ut", str(today()))
        ]

    def test_a_withdrawal_is_listed_since_its_day(self, case: Case) -> None:
        given = case.all_sign()
        response = case.client.post(
            f"/api/v1/consents/{given[1]['id']}/withdrawal", headers=case.owner
        )
        assert response.status_code == 204, response.text
        withdrawn = [r for r in rows_of(case) if r["concern"] == "withdrawn"]
        assert [(r["signer"], r["on"], r["state"]) for r in withdrawn] == [
            ("Erik Vårdnadshavare (vårdnadshavare)", str(today()), "paused")
        ]

    def test_an_expiring_consent_has_its_last_day_as_an_upcoming_date(self, case: Case) -> None:
        case.all_sign(valid_until=today() + timedelta(days=10))
        assert [(r["concern"], r["on"], r["upcoming"]) for r in rows_of(case)] == [
            ("expiring", str(today() + timedelta(days=10)), True)
        ]


class TestFiltersAndOrder:
    def test_filters_by_programme_concern_and_owner(self, case: Case, world: World) -> None:
        sig = open_sig_case(case.client, case.owner)
        case.consent(case.guardians[0], decision="refused")
        assert {r["case_id"] for r in rows_of(case)} == {case.id, sig}
        assert {r["case_id"] for r in rows_of(case, programme="SIG")} == {sig}
        assert {r["programme"] for r in rows_of(case, programme="SSPF")} == {"SSPF"}
        assert [r["case_id"] for r in rows_of(case, concern="refused")] == [case.id]
        assert {r["case_id"] for r in rows_of(case, owner=case.owner_user)} == {case.id, sig}
        coordinator = token_for(case.client, world.usernames["coordinator"])
        mine = case.client.get(TRACKER, headers=coordinator, params={"owner": case.owner_user})
        assert {r["owner_id"] for r in mine.json()} == {case.owner_user}

    def test_each_case_shown_is_a_read_of_its_own_and_a_case_filtered_out_is_not(
        self, case: Case, world: World
    ) -> None:
        sig = open_sig_case(case.client, case.owner)
        auditor = token_for(case.client, world.usernames["auditor"])

        def tracker_reads(case_id: str) -> int:
            events = case.client.get(
                "/api/v1/audit/events", params={"case_id": case_id}, headers=auditor
            ).json()["items"]
            return sum(e["action"] == "consent.tracker" for e in events)

        rows_of(case, programme="SIG")
        assert (tracker_reads(sig), tracker_reads(case.id)) == (1, 0)
        rows_of(case)  # both shown, one event each, whatever the number of rows per case
        assert (tracker_reads(sig), tracker_reads(case.id)) == (2, 1)

    def test_sorts_by_case_or_by_kind_of_concern(self, case: Case) -> None:
        open_sig_case(case.client, case.owner)  # only signatures missing
        case.consent(case.guardians[0], decision="refused")
        by_case = [(r["reference"][:4], r["concern"]) for r in rows_of(case, sort="case")]
        assert by_case[0] == ("SIG-", "missing")
        assert [r for r, _ in by_case] == sorted(r for r, _ in by_case)
        by_concern = [r["concern"] for r in rows_of(case, sort="concern")]
        assert by_concern[0] == "refused"
        assert by_concern == sorted(by_concern, key=["refused", "missing"].index)

    def test_the_default_order_puts_the_oldest_first(self, case: Case) -> None:
        case.consent(case.guardians[0], decision="refused", signed_on=today() - timedelta(days=3))
        assert next(r["on"] for r in rows_of(case)) == str(today() - timedelta(days=3))

    @pytest.mark.parametrize(
        ("field", "value"),
        [("programme", "XYZ"), ("owner", "not-an-id"), ("concern", "bored"), ("sort", "random")],
    )
    def test_a_bad_filter_is_a_422_naming_the_field(
        self, case: Case, field: str, value: str
    ) -> None:
        response = case.client.get(TRACKER, headers=case.owner, params={field: value})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]


class TestTrackerPage:
    def test_shows_count_dates_and_the_missing_guardian(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        case.consent(case.guardians[0], decision="refused", signed_on=today() - timedelta(days=2))
        log_in(client, world.usernames["coordinator"])
        page = client.get("/samtycken")
        assert page.status_code == 200
        assert "<title>Samtyckesbevakning" in page.text
        assert "sedan " + str(today() - timedelta(days=2)) in page.text
        assert "Anna Vårdnadshavare (vårdnadshavare) har nekat samtycke" in page.text
        assert ">nu<" not in page.text
        assert "<strong>3 bevakningar</strong> i 1 ärende." in page.text  # refused, 2 missing
        filtered = client.get("/samtycken", params={"concern": "refused"})
        assert "<strong>1 bevakning</strong> i 1 ärende (av 3 utan filter)." in filtered.text
        assert '<option value="refused" selected>' in filtered.text

    def test_a_bad_filter_is_named_and_not_applied(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        case.consent(case.guardians[0], decision="refused")
        log_in(client, world.usernames["coordinator"])
        page = client.get("/samtycken", params={"programme": "XYZ", "concern": "refused"})
        assert page.status_code == 422
        assert "<title>Fel: Samtyckesbevakning" in page.text
        assert 'href="#programme"' in page.text
        assert "Filtret används inte." in page.text
        # the good filter still applies, the bad one is dropped
        assert "<strong>1 bevakning</strong>" in page.text
