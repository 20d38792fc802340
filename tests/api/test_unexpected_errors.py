"""One error must not stop the service: a 500 answers at once, inside the request's context,
and leaves nothing behind (no writer turn, no connection); its log line carries no secret and
no local variable; the request id is the server's own."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Engine
from sqlmodel import select

from api import errors
from api.deps import CurrentActor, DbSession, open_db
from api.logging import configure_logging
from api.main import create_app
from api.middleware import SECURITY_HEADERS
from api.settings import Settings
from audit import log as audit
from audit.models import AuditEvent
from common.db import make_engine, new_session
from common.keys import KeySet
from frontend.deps import PageActor, PageDb
from tests.api.conftest import World, token_for
from tests.api.test_pages import log_in
from tests.builders import PASSWORD

SECRET_PASSWORD = "Hemligt-lösen-7781"
LOCAL_MARKER = "lokal-variabel-e5c1d"


@pytest.fixture
def engine(database_url: str, keys: KeySet) -> Iterator[Engine]:
    """A busy timeout of a fraction of a second: a writer turn or lock left behind by the
    failed request makes the next write fail here instead of waiting ten seconds."""
    engine = make_engine(database_url, busy_timeout=0.3)
    yield engine
    engine.dispose()


def _add_failing_routes(app: FastAPI) -> None:
    """Routes that write, hold secrets in local variables, and then fail unexpectedly."""

    @app.post("/api/v1/test/fails")
    def api_fails(request: Request, session: DbSession, actor: CurrentActor) -> None:
        audit.record(session, actor, action="test.fails", resource_type="test")  # a write
        authorization = request.headers["authorization"]
        marker = LOCAL_MARKER
        raise RuntimeError(f"failed with {authorization} password={SECRET_PASSWORD} {len(marker)}")

    @app.get("/test/sidan-fallerar", dependencies=[Depends(open_db, scope="function")])
    def page_fails(request: Request, session: PageDb, actor: PageActor) -> None:
        audit.record(session, actor, action="test.fails", resource_type="test")
        cookie = request.headers["cookie"]
        raise LookupError(f"no basis for cookie: {cookie}")


@pytest.fixture
def app(engine: Engine, keys: KeySet, tmp_path: Path) -> FastAPI:
    app = create_app(
        Settings(data_dir=tmp_path),
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )
    _add_failing_routes(app)
    return app


def _assert_answered_inside_the_request(response: Response) -> str:
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"
    assert f"Ange referens {request_id} " in response.text
    assert "None" not in response.text
    return request_id


class TestAnUnexpectedError:
    def test_api_answers_500_with_the_request_id_and_the_security_headers(
        self, client: TestClient, world: World
    ) -> None:
        headers = token_for(client, world.usernames["auditor"])
        response = client.post("/api/v1/test/fails", headers=headers)
        request_id = _assert_answered_inside_the_request(response)
        body = response.json()
        assert body["error"] == "internal_error"
        assert body["reference"] == request_id
        assert SECRET_PASSWORD not in response.text

    def test_page_answers_500_with_the_request_id_and_the_security_headers(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["auditor"])
        response = client.get("/test/sidan-fallerar")
        _assert_answered_inside_the_request(response)
        assert "Något gick fel" in response.text

    def test_is_answered_even_when_its_log_line_cannot_be_written(
        self, client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class BrokenLog:
            def error(self, *_args: object, **_kwargs: object) -> None:
                raise ValueError("I/O operation on closed file.")

        headers = token_for(client, world.usernames["auditor"])
        monkeypatch.setattr(errors, "log", BrokenLog())
        _assert_answered_inside_the_request(client.post("/api/v1/test/fails", headers=headers))

    def test_the_service_answers_and_writes_right_after(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        headers = token_for(client, world.usernames["auditor"])
        for _ in range(3):
            assert client.post("/api/v1/test/fails", headers=headers).status_code == 500
        health = client.get("/healthz")
        assert (health.status_code, health.json()["status"]) == (200, "ok")
        # A write right after: a writer turn or a write lock left behind would fail it.
        response = client.post(
            "/api/v1/auth/token",
            data={"username": world.usernames["social_worker"], "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        assert client.get("/api/v1/audit/denied", headers=headers).status_code == 200
        # The failed requests' writes were rolled back, and no connection is left checked out.
        with new_session(engine) as session:
            failed = session.exec(select(AuditEvent).where(AuditEvent.action == "test.fails"))
            assert failed.all() == []
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("json", [True, False], ids=["json", "console"])
class TestTheLogOfAnUnexpectedError:
    def test_carries_no_secret_and_no_local_variable(
        self,
        json: bool,
        client: TestClient,
        world: World,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        headers = token_for(client, world.usernames["auditor"])
        token = headers["Authorization"].removeprefix("Bearer ")
        log_in(client, world.usernames["auditor"])
        cookie = client.cookies["samsyn_session"]
        capsys.readouterr()
        configure_logging(json=json)

        api = client.post(
            "/api/v1/test/fails",
            headers={**headers, "X-Request-ID": "client-chosen-id-1"},
            data={"password": SECRET_PASSWORD, "code": "123456"},
        )
        page = client.get("/test/sidan-fallerar")
        # What uvicorn logs for an error that escaped the app: through the same processors.
        try:
            secret_header = f"Bearer {token}"
            raise ValueError(f"request had authorization: {secret_header}")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        structlog.get_logger("test").info(
            "headers", headers={"authorization": f"Bearer {token}", "cookie": cookie}
        )

        logs = "".join(capsys.readouterr())
        assert api.status_code == page.status_code == 500
        assert "unhandled_error" in logs
        assert "RuntimeError" in logs
        assert "LookupError" in logs
        assert "Traceback" in logs  # with a traceback
        for secret in (token, cookie, SECRET_PASSWORD, "123456"):
            assert secret not in logs
        assert LOCAL_MARKER not in logs  # no local variable
        assert "locals" not in logs.lower()
        assert "[redacted]" in logs
        assert len(logs) < 60_000  # bounded, not megabytes per error
        assert api.headers["X-Request-ID"] in logs
        assert "client-chosen-id-1" in logs  # the client's own id is logged apart


class TestRequestIds:
    def test_a_client_id_does_not_replace_the_servers_own(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        response = client.post(
            "/api/v1/auth/token",
            data={"username": world.usernames["auditor"], "password": PASSWORD},
            headers={"X-Request-ID": "forged-request-id-0001"},
        )
        assert response.status_code == 200
        request_id = response.headers["X-Request-ID"]
        assert request_id != "forged-request-id-0001"
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        with new_session(engine) as session:
            login = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
        assert login.request_id == request_id

    def test_every_request_gets_a_new_id(self, client: TestClient) -> None:
        headers = {"X-Request-ID": "same-client-id-42"}
        ids = {client.get("/healthz", headers=headers).headers["X-Request-ID"] for _ in range(3)}
        assert len(ids) == 3
