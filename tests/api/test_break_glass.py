from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from common.clock import reset_clock, set_clock
from domain.breakglass import service as breakglass
from tests.api.conftest import World, token_for
from tests.api.test_cases import move, open_case
from tests.api.test_pages import csrf_from, log_in

REASON = "Akut oro: polisen larmar om hot mot den unga i kväll."


class TestBreakGlass:
    def test_grants_time_limited_read_only_access_flagged_for_the_auditor(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404

        granted = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=other,
        )
        assert granted.status_code == 201, granted.text
        grant = granted.json()
        read = client.get(f"/api/v1/cases/{case['id']}", headers=other)
        assert read.status_code == 200
        move = client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            headers=other,
            json={"target": "consent_pending", "version": read.json()["version"]},
        )
        assert move.status_code == 404  # read only

        auditor = token_for(client, world.usernames["auditor"])
        review = client.get("/api/v1/audit/break-glass", headers=auditor).json()
        assert [(r["reason"], r["case_reference"]) for r in review["items"]] == [
            (REASON, case["reference"])
        ]
        reads = client.get(
            "/api/v1/audit/events",
            params={"case_id": case["id"], "action": "case.read"},
            headers=auditor,
        ).json()["items"]
        assert {"kind": "break_glass", "grant_id": grant["grant_id"]} in [e["basis"] for e in reads]

        later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
        set_clock(lambda: later)
        try:
            other_again = token_for(client, world.usernames["other_social_worker"])
            assert client.get(f"/api/v1/cases/{case['id']}", headers=other_again).status_code == 404
        finally:
            reset_clock()

    def test_the_grants_are_read_again_only_for_a_reader_who_holds_one(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        """The session lookup says whether the reader holds an unexpired grant; the scope
        reads the grants only if so (`access.holds_no_break_glass`)."""
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        other = token_for(client, world.usernames["other_social_worker"])
        read = f"/api/v1/cases/{case['id']}"
        statements: list[str] = []

        def grant_reads(answer_status: int) -> int:
            statements.clear()
            event.listen(engine, "before_cursor_execute", note)
            try:
                assert client.get(read, headers=other).status_code == answer_status
            finally:
                event.remove(engine, "before_cursor_execute", note)
            return sum("FROM break_glass_grant" in statement for statement in statements)

        def note(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement)

        assert grant_reads(404) == 1  # the lookup's EXISTS only
        client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=other,
        ).raise_for_status()
        assert grant_reads(200) == 2  # the lookup, and the scope's read of the grants

    def test_reason_and_reference_are_required(self, client: TestClient, world: World) -> None:
        other = token_for(client, world.usernames["other_social_worker"])
        response = client.post(
            "/api/v1/break-glass",
            json={"reference": "SSPF-1999-0001", "reason": "kort"},
            headers=other,
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"reference", "reason"}

    def test_only_social_workers_may_break_glass(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        for who in ("school_contact", "auditor", "administrator", "steering"):
            headers = token_for(client, world.usernames[who])
            response = client.post(
                "/api/v1/break-glass",
                json={"reference": case["reference"], "reason": REASON},
                headers=headers,
            )
            assert response.status_code == 403, who

    def test_not_needed_for_a_case_already_in_scope(self, client: TestClient, world: World) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        case = open_case(client, owner)
        response = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=owner,
        )
        assert response.status_code == 409

    def test_the_break_glass_reader_opens_the_young_person_too(
        self, client: TestClient, world: World
    ) -> None:
        """Was a 500 (no basis for the read): now the grant is the basis, on page and API."""
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        person_id = case["young_person"]["id"]
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get(f"/api/v1/young-persons/{person_id}", headers=other).status_code == 404
        granted = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=other,
        ).json()

        read = client.get(f"/api/v1/young-persons/{person_id}", headers=other)
        assert read.status_code == 200, read.text
        assert read.json()["personnummer"] is not None
        log_in(client, world.usernames["other_social_worker"])
        page = client.get(f"/unga/{person_id}")
        assert page.status_code == 200, page.text

        auditor = token_for(client, world.usernames["auditor"])
        reads = client.get(
            "/api/v1/audit/events",
            params={"action": "young_person.read"},
            headers=auditor,
        ).json()["items"]
        reader = client.get("/api/v1/auth/me", headers=other).json()["user_id"]
        assert [e["basis"] for e in reads if e["user_id"] == reader] == [
            {"kind": "break_glass", "grant_id": granted["grant_id"]}
        ] * 2


def at(moment: datetime) -> None:
    set_clock(lambda: moment)


def grant(client: TestClient, world: World, reference: str) -> Any:
    """A fresh token each time: tests move the clock past a token's lifetime."""
    return client.post(
        "/api/v1/break-glass",
        json={"reference": reference, "reason": REASON},
        headers=token_for(client, world.usernames["other_social_worker"]),
    )


def review_list(client: TestClient, world: World) -> Any:
    return client.get(
        "/api/v1/audit/break-glass", headers=token_for(client, world.usernames["auditor"])
    ).json()


class TestRenewalLimit:
    def test_a_third_grant_within_24_hours_is_refused_and_nothing_stored(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        start = datetime.now(UTC)
        try:
            statuses = []
            for hours in (0, 2.1, 4.2):  # each grant runs out after two hours
                at(start + timedelta(hours=hours))
                statuses.append(grant(client, world, case["reference"]))
            assert [r.status_code for r in statuses] == [201, 201, 409]
            refused = statuses[-1].json()
            assert refused["error"] == "conflict"
            assert "at most 2 break-glass grants" in refused["detail"]
            assert review_list(client, world)["total"] == 2

            later = start + breakglass.RENEWAL_WINDOW + timedelta(minutes=1)
            set_clock(lambda: later)  # the first grant has left the window
            assert grant(client, world, case["reference"]).status_code == 201
            assert review_list(client, world)["total"] == 3
        finally:
            reset_clock()

    def test_the_page_says_so_in_swedish(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        start = datetime.now(UTC)
        try:
            for hours in (0, 2.1):
                at(start + timedelta(hours=hours))
                assert grant(client, world, case["reference"]).status_code == 201
            moment = start + timedelta(hours=4.2)
            set_clock(lambda: moment)
            log_in(client, world.usernames["other_social_worker"])
            page = client.get("/nodatkomst")
            response = client.post(
                "/nodatkomst",
                data={
                    "csrf_token": csrf_from(page.text),
                    "reference": case["reference"],
                    "reason": REASON,
                },
            )
        finally:
            reset_clock()
        assert response.status_code == 409
        assert "Du har redan fått nödåtkomst till ärendet 2 gånger det senaste dygnet" in (
            response.text
        )
        assert review_list(client, world)["total"] == 2


class TestClosedCase:
    def test_no_grant_on_a_closed_case(self, client: TestClient, world: World) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        case = open_case(client, owner)
        closed = move(client, owner, case, "closed", outcome="moved")
        assert closed.status_code == 200, closed.text

        response = grant(client, world, case["reference"])
        assert response.status_code == 409
        assert response.json()["detail"].startswith("The case is closed")
        assert review_list(client, world)["total"] == 0
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404

    def test_the_page_names_the_closed_case(self, client: TestClient, world: World) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        case = open_case(client, owner)
        assert move(client, owner, case, "closed", outcome="moved").status_code == 200
        log_in(client, world.usernames["other_social_worker"])
        page = client.get("/nodatkomst")
        response = client.post(
            "/nodatkomst",
            data={
                "csrf_token": csrf_from(page.text),
                "reference": case["reference"],
                "reason": REASON,
            },
        )
        assert response.status_code == 409
        assert "Ärendet är avslutat. Nödåtkomst ges inte till avslutade ärenden." in response.text
        assert review_list(client, world)["total"] == 0


class TestReview:
    def test_the_auditor_records_a_review_once_and_it_is_listed_and_audited(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        grant_id = grant(client, world, case["reference"]).json()["grant_id"]
        auditor = token_for(client, world.usernames["auditor"])
        before = review_list(client, world)["items"][0]
        assert (before["reviewed"], before["review_outcome"], before["reviewed_at"]) == (
            False,
            None,
            None,
        )

        reviewed = client.post(
            f"/api/v1/audit/break-glass/{grant_id}/review",
            json={"outcome": "not_justified", "note": "Ingen akut fara enligt journalen."},
            headers=auditor,
        )
        assert reviewed.status_code == 200, reviewed.text
        me = client.get("/api/v1/auth/me", headers=auditor).json()
        listed = review_list(client, world)["items"][0]
        for body in (reviewed.json(), listed):
            assert body["reviewed"] is True
            assert body["review_outcome"] == "not_justified"
            assert body["review_note"] == "Ingen akut fara enligt journalen."
            assert body["reviewed_by"] == me["user_id"]
            assert body["reviewer_name"] is not None
            assert body["reviewed_at"] is not None

        again = client.post(
            f"/api/v1/audit/break-glass/{grant_id}/review",
            json={"outcome": "justified"},
            headers=auditor,
        )
        assert again.status_code == 409
        assert "already been reviewed" in again.json()["detail"]
        assert review_list(client, world)["items"][0]["review_outcome"] == "not_justified"

        events = client.get(
            "/api/v1/audit/events",
            params={"action": "audit.break_glass.review"},
            headers=auditor,
        ).json()["items"]
        assert [(e["resource_id"], e["basis"]) for e in events] == [
            (grant_id, {"outcome": "not_justified", "note": True})
        ]

    def test_only_the_auditor_may_review(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        grant_id = grant(client, world, case["reference"]).json()["grant_id"]
        for who in ("social_worker", "other_social_worker", "coordinator", "administrator"):
            response = client.post(
                f"/api/v1/audit/break-glass/{grant_id}/review",
                json={"outcome": "justified"},
                headers=token_for(client, world.usernames[who]),
            )
            assert response.status_code == 403, who
        assert review_list(client, world)["items"][0]["reviewed"] is False

    def test_bad_outcome_and_unknown_grant(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        grant_id = grant(client, world, case["reference"]).json()["grant_id"]
        auditor = token_for(client, world.usernames["auditor"])
        bad = client.post(
            f"/api/v1/audit/break-glass/{grant_id}/review",
            json={"outcome": "maybe"},
            headers=auditor,
        )
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["outcome"]
        missing = client.post(
            f"/api/v1/audit/break-glass/{uuid.uuid4()}/review",
            json={"outcome": "justified"},
            headers=auditor,
        )
        assert missing.status_code == 404
        assert review_list(client, world)["items"][0]["reviewed"] is False

    def test_the_review_page_records_and_then_shows_it(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        grant_id = grant(client, world, case["reference"]).json()["grant_id"]
        log_in(client, world.usernames["auditor"])
        page = client.get("/granskning/nodatkomst")
        assert "Ej granskad" in page.text
        url = f"/granskning/nodatkomst/{grant_id}/granskning"
        missing_outcome = client.post(url, data={"csrf_token": csrf_from(page.text)})
        assert missing_outcome.status_code == 422
        assert f'href="#outcome-{grant_id}"' in missing_outcome.text
        assert "Välj om nödåtkomsten var befogad eller inte." in missing_outcome.text

        saved = client.post(
            url,
            data={
                "csrf_token": csrf_from(page.text),
                "outcome": "justified",
                "note": "Polisens larm bekräftat.",
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        shown = client.get("/granskning/nodatkomst").text
        assert "Befogad" in shown
        assert "Polisens larm bekräftat." in shown
        assert "Ej granskad" not in shown

        twice = client.post(
            url, data={"csrf_token": csrf_from(page.text), "outcome": "not_justified"}
        )
        assert twice.status_code == 409
        assert "Nödåtkomsten är redan granskad." in twice.text
