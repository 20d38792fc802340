"""Alembic environment: the same revisions run on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool

from common.db import EncryptedString, UTCDateTime
from common.files import private_sqlite_file
from domain.schema import metadata

config = context.config


def render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Our column types are plain SQL types underneath; migrations must not import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedString):
        return "sa.String()"
    return False


def run_migrations_online() -> None:
    url = config.attributes["database_url"]
    private_sqlite_file(url)  # a new SQLite database is created 0600, never world-readable
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
