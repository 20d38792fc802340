"""The bare stack a case read is measured against (`bench_case_read.py`): FastAPI and SQLModel
reading one row by key in a sync endpoint with a Session per request, and nothing else.

`BARE_DB` names the database (SQLite in WAL mode with `synchronous=FULL`, or PostgreSQL);
`python -m tests.perf.bare_app seed` creates and fills the table. Serve it with
`uvicorn tests.perf.bare_app:app`. It refuses to start unless `SAMSYN_PERF_BENCH=1`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine

ROWS = 1000


class BareItem(SQLModel, table=True):
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    sku: str
    name: str
    category: str
    description: str


def _engine() -> Engine:
    if os.environ.get("SAMSYN_PERF_BENCH") != "1":
        raise RuntimeError("tests.perf.bare_app is for the benchmark only (SAMSYN_PERF_BENCH=1)")
    url = os.environ["BARE_DB"]
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=20, max_overflow=0)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def pragmas(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")

    return engine


engine = _engine()
app = FastAPI()


@app.get("/row/{item_id}")
def read_row(item_id: int) -> BareItem:
    with Session(engine) as session:
        item = session.get(BareItem, item_id)
        if item is None:
            raise HTTPException(status_code=404)
        return item


def seed() -> None:
    SQLModel.metadata.create_all(engine, tables=[BareItem.__table__])  # type: ignore[attr-defined]
    with Session(engine) as session:
        for n in range(1, ROWS + 1):
            session.add(
                BareItem(
                    id=n,
                    sku=f"SKU-{n:05d}",
                    name=f"Sak {n}",
                    category=("a", "b", "c")[n % 3],
                    description="Påhittad rad för jämförelsen. " * 4,
                )
            )
        session.commit()


if __name__ == "__main__" and sys.argv[1:] == ["seed"]:
    seed()
