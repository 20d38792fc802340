"""Many clients at once never stop the server (api.middleware.RequestLimit).

Every audited read writes, so on SQLite every request takes the process's write turn
(common.db.WriterTurns) in a worker thread, and gives it up at commit, which runs in another
worker thread. When more requests than threads were inside the app, the threads filled with
requests waiting for the turn while the one holding it waited for a thread to commit, and
nothing moved until every wait timed out: 64 clients stopped the demo server outright. Here
the pool is made small (4 threads) and 24 clients read at once, with a short turn timeout so
that a stall shows as "unavailable" answers rather than a hung test.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from anyio import to_thread
from sqlmodel import select
from starlette.types import Message, Receive, Scope, Send

from api.main import create_app
from api.middleware import RequestLimit
from api.settings import Settings
from audit.models import AuditEvent
from common.db import make_engine, new_session
from common.keys import KeySet
from domain.auth.service import actor_for
from tests.builders import PASSWORD, make_agency, make_case, make_user

CLIENTS = 24
THREADS = 4


def test_more_clients_than_threads_are_all_answered(
    sqlite_template: Path, tmp_path: Path, keys: KeySet
) -> None:
    path = tmp_path / "samsyn.db"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}", busy_timeout=2)
    with new_session(engine) as session:
        unit = make_agency(session)
        user = make_user(session, unit)
        case = make_case(session, actor_for(session, user), keys)
        session.commit()
    app = create_app(
        Settings(data_dir=tmp_path, max_concurrent_requests=2),
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )

    async def read_all() -> list[int]:
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://samsyn") as client:
            login = {"username": user.username, "password": PASSWORD}
            token = (await client.post("/api/v1/auth/token", data=login)).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            answers = await asyncio.gather(
                *(client.get(f"/api/v1/cases/{case.id}", headers=bearer) for _ in range(CLIENTS))
            )
        return [answer.status_code for answer in answers]

    assert asyncio.run(read_all()) == [200] * CLIENTS
    with new_session(engine) as session:
        reads = session.exec(select(AuditEvent).where(AuditEvent.action == "case.read")).all()
    assert len(reads) == CLIENTS
    engine.dispose()


def _request(path: str) -> Scope:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


async def _nothing_received() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(_message: Message) -> None:
    return None


class TestOneFreshRequestAtATime:
    """Requests go in one at a time, in arrival order, until the one inside has been there
    `patience` seconds; then it no longer holds the line."""

    def test_short_requests_go_in_one_at_a_time_in_arrival_order(self) -> None:
        inside: list[int] = []
        most_at_once = 0
        entered: list[int] = []

        async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
            nonlocal most_at_once
            inside.append(1)
            entered.append(int(str(scope["path"]).strip("/")))
            most_at_once = max(most_at_once, len(inside))
            await asyncio.sleep(0.005)
            inside.pop()

        limit = RequestLimit(app, limit=8, patience=10)

        async def run() -> None:
            await asyncio.gather(
                *(limit(_request(f"/{n}"), _nothing_received, _discard) for n in range(6))
            )

        asyncio.run(run())
        assert most_at_once == 1
        assert entered == list(range(6))

    def test_a_long_request_stops_holding_the_line_after_patience(self) -> None:
        second_in = asyncio.Event()

        async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
            if scope["path"] == "/long":
                # Ends only when the second request has gone in beside it (or fails the test).
                await asyncio.wait_for(second_in.wait(), timeout=5)
            else:
                second_in.set()

        limit = RequestLimit(app, limit=8, patience=0.05)

        async def run() -> None:
            long = asyncio.create_task(limit(_request("/long"), _nothing_received, _discard))
            await asyncio.sleep(0)
            await limit(_request("/short"), _nothing_received, _discard)
            await long  # the short one went in while the long one was inside

        asyncio.run(run())

    def test_a_request_that_gives_up_waiting_leaves_the_line(self) -> None:
        release = asyncio.Event()
        served: list[str] = []

        async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
            if scope["path"] == "/first":
                await release.wait()
            served.append(str(scope["path"]))

        limit = RequestLimit(app, limit=8, patience=10)

        async def run() -> None:
            def call(path: str) -> asyncio.Task[None]:
                return asyncio.create_task(limit(_request(path), _nothing_received, _discard))

            first = call("/first")
            await asyncio.sleep(0)
            gives_up, third = call("/gives-up"), call("/third")
            await asyncio.sleep(0.01)
            gives_up.cancel()
            release.set()
            await asyncio.wait_for(asyncio.gather(first, third), timeout=5)

        asyncio.run(run())
        assert served == ["/first", "/third"]
