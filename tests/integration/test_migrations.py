"""The stairway: every revision upgrades and downgrades cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from deploy import migrate
from domain.schema import metadata


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


class TestStairway:
    def test_each_revision_upgrades_downgrades_and_upgrades_again(self, database_url: str) -> None:
        migrate.downgrade(database_url, "base")
        assert _tables(database_url) == set()
        previous = "base"
        for revision in migrate.revisions():
            migrate.upgrade(database_url, revision)
            migrate.downgrade(database_url, previous)
            migrate.upgrade(database_url, revision)
            previous = revision

    def test_head_has_every_table_the_models_declare(self, database_url: str) -> None:
        assert _tables(database_url) == set(metadata.tables)

    def test_downgrade_to_base_leaves_nothing(self, database_url: str) -> None:
        migrate.downgrade(database_url, "base")
        assert _tables(database_url) == set()


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model change without a migration (or the reverse) fails here."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
