from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from api.main import create_app
from api.settings import Settings
from audit.checkpoints import Checkpoint, sign_checkpoint
from audit.merkle import verify_consistency, verify_inclusion
from audit.sequencer import integrate_all
from common.db import new_session
from common.keys import KeySet
from tests.api.conftest import World, token_for
from tests.api.test_cases import open_case
from tests.api.test_pages import log_in


def integrate(app: FastAPI, engine: Engine) -> None:
    with new_session(engine) as session:
        integrate_all(session, app.state.log_signer)
        session.commit()


@pytest.fixture
def auditor(client: TestClient, world: World) -> dict[str, str]:
    return token_for(client, world.usernames["auditor"])


class TestAccessRules:
    @pytest.mark.parametrize(
        "who", ["social_worker", "coordinator", "school_contact", "steering", "administrator"]
    )
    def test_only_the_auditor_reads_the_log(
        self, client: TestClient, world: World, who: str
    ) -> None:
        headers = token_for(client, world.usernames[who])
        for path in (
            "/api/v1/audit/events",
            "/api/v1/audit/denied",
            "/api/v1/audit/break-glass",
            "/api/v1/audit/checkpoint",
            "/api/v1/audit/events.csv",
        ):
            assert client.get(path, headers=headers).status_code == 403, path

    def test_the_auditor_cannot_read_case_content(
        self, client: TestClient, world: World, auditor: dict[str, str]
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        assert client.get(f"/api/v1/cases/{case['id']}", headers=auditor).status_code == 403
        assert (
            client.get(
                f"/api/v1/young-persons/{case['young_person']['id']}", headers=auditor
            ).status_code
            == 403
        )


class TestAccessReport:
    def test_shows_who_read_the_case_and_on_what_basis(
        self, client: TestClient, world: World, auditor: dict[str, str]
    ) -> None:
        worker = token_for(client, world.usernames["social_worker"])
        case = open_case(client, worker)
        client.get(
            f"/api/v1/cases/{case['id']}", headers=token_for(client, world.usernames["coordinator"])
        )
        report = client.get(f"/api/v1/audit/cases/{case['reference']}/access", headers=auditor)
        assert report.status_code == 200, report.text
        events = report.json()["events"]["items"]
        reads = [
            (e["user_name"], e["action"], e["basis"].get("kind"))
            for e in events
            if e["action"] == "case.read"
        ]
        assert ("Testanvändare coordinator", "case.read", "programme_coordinator") in reads
        assert ("Testanvändare social_worker", "case.read", "own_agency") in reads
        # the auditor's own look is in the log too
        mine = client.get(
            "/api/v1/audit/events", params={"action": "audit.access_report"}, headers=auditor
        )
        assert mine.json()["items"][0]["case_id"] == case["id"]

    def test_unknown_reference_is_404(self, client: TestClient, auditor: dict[str, str]) -> None:
        assert (
            client.get("/api/v1/audit/cases/SSPF-1999-0001/access", headers=auditor).status_code
            == 404
        )


class TestDenied:
    def test_a_probe_for_a_hidden_case_is_listed_with_the_prober(
        self, client: TestClient, world: World, auditor: dict[str, str]
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        prober = token_for(client, world.usernames["school_contact"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=prober).status_code == 404
        denied = client.get("/api/v1/audit/denied", headers=auditor).json()["items"]
        probe = next(e for e in denied if e["case_id"] == case["id"])
        assert probe["user_name"] == "Testanvändare contact_person"
        assert probe["action"] == "GET /api/v1/cases/{case_id}"
        assert probe["basis"] == {"status": 404, "error": "not_found"}


class TestExport:
    def test_csv_export_is_itself_audited(
        self, client: TestClient, world: World, auditor: dict[str, str]
    ) -> None:
        open_case(client, token_for(client, world.usernames["social_worker"]))
        response = client.get(
            "/api/v1/audit/events.csv", params={"action": "case.create"}, headers=auditor
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["action"] for row in rows] == ["case.create"]
        exports = client.get(
            "/api/v1/audit/events", params={"action": "audit.export"}, headers=auditor
        ).json()
        assert exports["total"] == 1
        assert exports["items"][0]["basis"]["rows"] == 1


class TestProofs:
    def test_inclusion_and_consistency_proofs_verify(
        self,
        client: TestClient,
        world: World,
        app: FastAPI,
        engine: Engine,
        auditor: dict[str, str],
    ) -> None:
        worker = token_for(client, world.usernames["social_worker"])
        case = open_case(client, worker)
        integrate(app, engine)
        old = client.get("/api/v1/audit/checkpoint", headers=auditor).json()
        assert old["signed_at"] is not None
        assert f"time {int(datetime.fromisoformat(old['signed_at']).timestamp())}\n" in old["note"]
        for _ in range(3):
            client.get(f"/api/v1/cases/{case['id']}", headers=worker)
        integrate(app, engine)
        event = client.get(
            "/api/v1/audit/events", params={"action": "case.create"}, headers=auditor
        ).json()["items"][0]

        inclusion = client.get(
            "/api/v1/audit/proofs/inclusion", params={"event_id": event["id"]}, headers=auditor
        )
        assert inclusion.status_code == 200, inclusion.text
        body = inclusion.json()
        assert verify_inclusion(
            body["position"],
            body["checkpoint"]["size"],
            bytes.fromhex(body["leaf_hash"]),
            [bytes.fromhex(h) for h in body["path"]],
            bytes.fromhex(body["checkpoint"]["root"]),
        )

        consistency = client.get(
            "/api/v1/audit/proofs/consistency", params={"old_size": old["size"]}, headers=auditor
        )
        assert consistency.status_code == 200, consistency.text
        proof = consistency.json()
        assert proof["new"]["size"] > old["size"]
        assert verify_consistency(
            old["size"],
            proof["new"]["size"],
            [bytes.fromhex(h) for h in proof["path"]],
            bytes.fromhex(old["root"]),
            bytes.fromhex(proof["new"]["root"]),
        )

    def test_unknown_event_is_404_and_bad_size_names_the_field(
        self,
        client: TestClient,
        world: World,
        app: FastAPI,
        engine: Engine,
        auditor: dict[str, str],
    ) -> None:
        open_case(client, token_for(client, world.usernames["social_worker"]))
        integrate(app, engine)
        missing = client.get(
            "/api/v1/audit/proofs/inclusion",
            params={"event_id": str(uuid.uuid4())},
            headers=auditor,
        )
        assert missing.status_code == 404
        bad = client.get(
            "/api/v1/audit/proofs/consistency", params={"old_size": 999_999}, headers=auditor
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "old_size"


class TestHealth:
    def test_healthy_answers_200_with_the_audit_state_and_no_personal_data(
        self, client: TestClient, world: World, app: FastAPI, engine: Engine
    ) -> None:
        open_case(client, token_for(client, world.usernames["social_worker"]))
        integrate(app, engine)
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["audit"]["status"] == "ok"
        assert body["audit"]["problems"] == []
        assert body["audit"]["log_size"] > 0
        assert body["audit"]["oldest_pending_seconds"] is None
        assert set(body["audit"]) == {
            "status",
            "sequencer",
            "problems",
            "log_size",
            "oldest_pending_seconds",
            "exported_size",
            "skipped_checkpoint_rows",
        }

    def test_a_sequencer_refusing_a_fork_answers_503(
        self, engine: Engine, keys: KeySet, tmp_path: Path, world: World
    ) -> None:
        export_dir = tmp_path / "export"
        app = create_app(
            Settings(data_dir=tmp_path, audit_export_dir=export_dir),
            keys=keys,
            engine=engine,
            run_sequencer=False,
            run_consent_sweep=False,
            second_factor_required=False,
        )
        signer = app.state.log_signer
        # The export holds a tree larger than this log: the log was cut back and restarted.
        ahead = sign_checkpoint(
            Checkpoint(signer.origin, 10**6, bytes(32), time=1), signer.key, signer.key_name
        )
        export_dir.mkdir()
        (export_dir / "latest.note").write_text(ahead.to_note(), encoding="utf-8")
        with TestClient(app, raise_server_exceptions=False) as client:
            token_for(client, world.usernames["social_worker"])  # an event to integrate
            with capture_logs() as logs:  # (also: the CLI tests leave logging on a closed file)
                assert app.state.sequencer.run_once() is None
            response = client.get("/healthz")
        assert {e["event"] for e in logs if e["log_level"] == "error"} == {
            "audit_export_inconsistent"
        }
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded"
        assert body["audit"]["sequencer"] == "refusing"
        assert "export_inconsistent" in body["audit"]["problems"]
        assert body["audit"]["exported_size"] == 10**6
        assert (export_dir / "latest.note").read_text(encoding="utf-8") == ahead.to_note()


UNKNOWN_EVENT = uuid.UUID(int=7)  # fixed: xdist workers must collect the same test ids


class TestFiltersThatCannotBeSearched:
    """Times without an offset, times at the calendar's edges and numbers past 64 bits were
    500s (API, CSV and pages); each is now a 4xx that names the field."""

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("from=2026-01-01T00:00:00", "from"),
            ("to=2026-01-01T12:30:00", "to"),
            ("from=0001-01-01T00:00:00%2B01:00", "from"),
            ("to=9999-12-31T23:59:59-05:00", "to"),
        ],
    )
    @pytest.mark.parametrize("path", ["/api/v1/audit/events", "/api/v1/audit/events.csv"])
    def test_api_time_without_offset_or_out_of_range_is_422(
        self, client: TestClient, auditor: dict[str, str], path: str, query: str, field: str
    ) -> None:
        response = client.get(f"{path}?{query}", headers=auditor)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]

    def test_api_times_at_the_calendars_edges_with_an_offset_utc_can_hold_are_searched(
        self, client: TestClient, auditor: dict[str, str]
    ) -> None:
        response = client.get(
            "/api/v1/audit/events?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
            headers=auditor,
        )
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        "query",
        [
            "page=18446744073709551617",
            "page=100001",
            "page_size=18446744073709551617",
        ],
    )
    @pytest.mark.parametrize("path", ["/api/v1/audit/events", "/api/v1/audit/denied"])
    def test_api_page_past_the_limit_is_422(
        self, client: TestClient, auditor: dict[str, str], path: str, query: str
    ) -> None:
        response = client.get(f"{path}?{query}", headers=auditor)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [query.split("=")[0]]

    @pytest.mark.parametrize(
        ("path", "field"),
        [
            (f"/api/v1/audit/proofs/inclusion?event_id={UNKNOWN_EVENT}&size=", "size"),
            ("/api/v1/audit/proofs/consistency?old_size=", "old_size"),
            ("/api/v1/audit/proofs/consistency?old_size=1&new_size=", "new_size"),
        ],
    )
    def test_api_proof_size_past_64_bits_is_422(
        self, client: TestClient, auditor: dict[str, str], path: str, field: str
    ) -> None:
        for size in (2**63, 2**64 + 1, 10**30):
            response = client.get(f"{path}{size}", headers=auditor)
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == [field]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("fran=0001-01-01", "fran"),
            ("till=9999-12-31", "till"),
            ("fran=2026-01-01&sida=18446744073709551617", "sida"),
        ],
    )
    def test_pages_date_at_the_calendars_edge_or_page_past_the_limit_names_the_field(
        self, client: TestClient, world: World, query: str, field: str
    ) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get(f"/granskning?{query}")
        assert response.status_code == 422, response.text
        assert f'href="#{field}"' in response.text
        export = client.get(f"/granskning/export.csv?{query}")
        assert export.status_code == 422, export.text

    @pytest.mark.parametrize("path", ["/granskning/nekade", "/granskning/nodatkomst"])
    def test_pages_list_page_past_64_bits_is_400_naming_the_field(
        self, client: TestClient, world: World, path: str
    ) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get(f"{path}?sida=18446744073709551617")
        assert response.status_code == 400, response.text
        assert "sida" in response.text

    def test_api_period_that_ends_before_it_starts_names_the_query_parameter(
        self, client: TestClient, auditor: dict[str, str]
    ) -> None:
        query = "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"
        for path in ("/api/v1/audit/events", "/api/v1/audit/events.csv"):
            response = client.get(f"{path}?{query}", headers=auditor)
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == ["to"]

    def test_pages_period_that_ends_before_it_starts_names_the_field(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get("/granskning?fran=2026-02-01&till=2026-01-01")
        assert response.status_code == 422, response.text
        assert 'href="#till"' in response.text
