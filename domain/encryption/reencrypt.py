"""`samsyn keys reencrypt`: every encrypted value into the current format under the active key.

A value is rewritten when it is not ``v2`` under the active field key: ``v1`` values (bound to
their column only), values under an older key, and values a migration marked as still in
clear (only in columns declared `accepts_marked_plaintext`). Each is opened for the row it is
stored in, sealed again for that row, and written back only if it is still the value that was
read (a concurrent edit wins and is counted, never overwritten). Work goes in batches, one
transaction each, in row-id order; a run that stops half way leaves only finished batches,
and the next run finds just what is left (idempotent, resumable).

A system job: it writes no audit events and never touches the audit tables, and it reports
counts and row ids only: no value, opened or not, reaches a log or the output.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from common.crypto import PLAINTEXT_MARK, KeyMaterialError, field_keyring
from common.db import new_session, seal
from domain.encryption.repository import (
    EncryptedColumn,
    SystemFieldValueRepository,
    encrypted_columns,
)

DEFAULT_BATCH_SIZE = 500


@dataclass
class ColumnReport:
    """What one pass did to one encrypted column (``table.column``)."""

    context: str
    rewritten: int = 0
    raced: int = 0  # changed by someone else between read and write; theirs is kept
    unreadable: list[uuid.UUID] = field(default_factory=list)  # row ids, never values
    remaining: int = 0  # values still needing work after the pass


@dataclass(frozen=True)
class ReencryptReport:
    active_key_id: str
    columns: tuple[ColumnReport, ...]

    @property
    def complete(self) -> bool:
        """Nothing left to do: after a full pass, keys other than the active one can go."""
        return all(c.remaining == 0 and not c.unreadable for c in self.columns)


def reencrypt(
    engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE, only_marked_plaintext: bool = False
) -> ReencryptReport:
    """One pass over every encrypted column; `only_marked_plaintext` encrypts ``v0`` values only."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    active = field_keyring().active_id
    current_prefix = None if only_marked_plaintext else f"v2.{active}."
    reports = tuple(
        _reencrypt_column(engine, target, current_prefix=current_prefix, batch_size=batch_size)
        for target in encrypted_columns()
        if target.type.accepts_marked_plaintext or not only_marked_plaintext
    )
    return ReencryptReport(active_key_id=active, columns=reports)


def marked_plaintext_count(engine: Engine) -> int:
    """Values a migration left in clear, waiting for `reencrypt`."""
    with new_session(engine) as session:
        return sum(
            SystemFieldValueRepository(session, target).count(current_prefix=None)
            for target in encrypted_columns()
            if target.type.accepts_marked_plaintext
        )


def _reencrypt_column(
    engine: Engine, target: EncryptedColumn, *, current_prefix: str | None, batch_size: int
) -> ColumnReport:
    report = ColumnReport(context=target.context)
    after: uuid.UUID | None = None
    while True:
        with new_session(engine) as session:  # one transaction per batch
            values = SystemFieldValueRepository(session, target)
            rows = values.batch(current_prefix=current_prefix, after=after, size=batch_size)
            for row_id, stored in rows:
                plaintext = _open(target, row_id, stored, report)
                if plaintext is None:
                    continue
                sealed = seal(target.context, row_id, plaintext)
                if values.replace(row_id, stored=stored, sealed=sealed):
                    report.rewritten += 1
                else:
                    report.raced += 1
            session.commit()
        if len(rows) < batch_size:
            break
        after = rows[-1][0]
    with new_session(engine) as session:
        report.remaining = SystemFieldValueRepository(session, target).count(
            current_prefix=current_prefix
        )
    return report


def _open(
    target: EncryptedColumn, row_id: uuid.UUID, stored: str, report: ColumnReport
) -> str | None:
    if stored.startswith(PLAINTEXT_MARK) and target.type.accepts_marked_plaintext:
        return stored[len(PLAINTEXT_MARK) :]
    try:
        return field_keyring().decrypt(stored, context=target.context, row_id=row_id)
    except KeyMaterialError:
        report.unreadable.append(row_id)
        return None
