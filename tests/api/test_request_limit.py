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

from api.main import create_app
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
