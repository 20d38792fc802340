"""The system repository of stored field values: raw ciphertexts by column, for key jobs.

A system repository (no `CaseScope`): it reads and rewrites the stored form of encrypted
columns in every table, gated or not, and never returns an opened value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, String, Table, func, select, type_coerce, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from common.crypto import PLAINTEXT_MARK
from common.db import EncryptedString, SealedText, metadata
from consent.guard import system

BECAUSE = "system: key jobs rewrite stored ciphertexts; no value is shown to anyone"


@dataclass(frozen=True)
class EncryptedColumn:
    table: Table
    column: Column[str]
    type: EncryptedString

    @property
    def context(self) -> str:
        return self.type.context

    @property
    def row_id(self) -> Column[uuid.UUID]:
        (primary_key,) = self.table.primary_key
        return primary_key

    @property
    def stored(self) -> ColumnElement[str]:
        """The column as stored, without the type that opens it."""
        return type_coerce(self.column, String())


def encrypted_columns() -> Iterator[EncryptedColumn]:
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedString):
                yield EncryptedColumn(table, column, column.type)


def _starts_with(stored: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    # Not LIKE: SQLite's LIKE ignores case, and key ids "K1" and "k1" are different keys.
    return func.substr(stored, 1, len(prefix)) == prefix


class SystemFieldValueRepository:
    """Stored values of one encrypted column that are marked plaintext or not yet `current`."""

    def __init__(self, session: Session, target: EncryptedColumn) -> None:
        self._session = session
        self._target = target

    def _needs_work(self, *, current_prefix: str | None) -> ColumnElement[bool]:
        stored = self._target.stored
        if current_prefix is None:  # only values a migration marked as still in clear
            return _starts_with(stored, PLAINTEXT_MARK)
        return stored.is_not(None) & ~_starts_with(stored, current_prefix)

    def batch(
        self, *, current_prefix: str | None, after: uuid.UUID | None, size: int
    ) -> Sequence[tuple[uuid.UUID, str]]:
        """The next `size` (row id, stored value) pairs needing work, in row-id order."""
        target = self._target
        statement = (
            select(target.row_id, target.stored)
            .where(self._needs_work(current_prefix=current_prefix))
            .order_by(target.row_id)
            .limit(size)
        )
        if after is not None:
            statement = statement.where(target.row_id > after)
        rows = self._session.execute(system(statement, BECAUSE)).all()
        return [(row_id, stored) for row_id, stored in rows]

    def count(self, *, current_prefix: str | None) -> int:
        statement = select(func.count()).where(self._needs_work(current_prefix=current_prefix))
        return int(self._session.execute(system(statement, BECAUSE)).scalar_one())

    def replace(self, row_id: uuid.UUID, *, stored: str, sealed: SealedText) -> bool:
        """Write `sealed` if the row still holds `stored`; False if someone changed it first."""
        target = self._target
        written = self._session.execute(
            update(target.table)
            .where(target.row_id == row_id, target.stored == stored)
            .values({target.column.key: sealed})
        )
        return bool(written.rowcount == 1)  # type: ignore[attr-defined]
