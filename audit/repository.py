"""Every query on the audit tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    text,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType
from sqlmodel import Session, col, select

from audit.canonical import EVENT_COLUMNS
from audit.merkle import perfect_subtrees
from audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditNode, AuditPending
from common.db import UTCDateTime

Row = TypeVar("Row")
Row_: TypeAlias = Sequence[Any]  # a plain result row: indexable, no ORM object

LEAF_FIELDS = ("position", "event_id", "payload_hash", "leaf_hash")
"""The leaf's columns at the start of each `verification_rows` tuple."""

# Any constant works; it only has to be the same in every process of one installation.
INTEGRATION_LOCK = 0x5A5D_A0D1
LEADER_LOCK = 0x5A5D_A0D2


@dataclass(frozen=True)
class EventFilter:
    user_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    action: str | None = None
    action_prefix: str | None = None
    outcome: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@dataclass(frozen=True)
class StoredLeaf:
    leaf: AuditLeaf
    event: AuditEvent | None
    raw: dict[str, Any]  # see `stored_form_columns`


def stored_form_columns() -> list[tuple[str, Any]]:
    """The columns whose stored form verify compares with the form the value is written in."""
    return [
        ("leaf_event_id", AuditLeaf.__table__.c.event_id),  # type: ignore[attr-defined]
        *(
            (name, AuditEvent.__table__.c[name])  # type: ignore[attr-defined]
            for name in ("id", "occurred_at", "user_id", "agency_id", "case_id")
        ),
    ]


def verification_columns() -> list[Any]:
    """The columns of a `verification_rows` tuple, in order: `LEAF_FIELDS`, then the event's
    `EVENT_COLUMNS`. Their types say how a stored value reads and how a value is written."""
    leaf = AuditLeaf.__table__.c  # type: ignore[attr-defined]
    event = AuditEvent.__table__.c  # type: ignore[attr-defined]
    return [*(leaf[name] for name in LEAF_FIELDS), *(event[name] for name in EVENT_COLUMNS)]


def try_to_lead(connection: Connection) -> bool:
    """Take the sequencer's leadership (a session-level PostgreSQL advisory lock), if free."""
    acquired = connection.execute(select(func.pg_try_advisory_lock(LEADER_LOCK))).scalar()
    connection.commit()  # the lock outlives the transaction; do not sit idle in one
    return bool(acquired)


_WRITE_BATCH = text(
    """
    WITH batch AS (
        SELECT CAST(:start AS bigint) + i AS position,
               CAST(encode(substring(:event_ids FROM 16 * i + 1 FOR 16), 'hex') AS uuid)
                   AS event_id,
               substring(:payload_hashes FROM 32 * i + 1 FOR 32) AS payload_hash,
               substring(:leaf_hashes FROM 32 * i + 1 FOR 32) AS leaf_hash
        FROM generate_series(0, CAST(:count AS integer) - 1) AS i
    ), leaves AS (
        INSERT INTO audit_leaf (position, event_id, payload_hash, leaf_hash, integrated_at)
        SELECT position, event_id, payload_hash, leaf_hash, :integrated_at FROM batch
    ), nodes AS (
        INSERT INTO audit_node (level, idx, hash)
        SELECT level, idx, substring(:node_hashes FROM CAST(32 * n - 31 AS integer) FOR 32)
        FROM unnest(CAST(:levels AS integer[]), CAST(:indexes AS bigint[]))
            WITH ORDINALITY AS completed(level, idx, n)
    )
    DELETE FROM audit_pending WHERE event_id IN (SELECT event_id FROM batch)
    """
).bindparams(bindparam("integrated_at", type_=UTCDateTime()))
"""PostgreSQL: a batch's leaves and completed subtrees stored, and its events taken off the
queue, in one statement (`AuditLogRepository.add_leaves`)."""


@dataclass(frozen=True)
class LeafBatch:
    """One integration's leaves, as columns, at the consecutive positions from `start`, all
    integrated at one time; and the perfect subtrees they completed, (level, index, hash)."""

    start: int
    event_ids: Sequence[uuid.UUID]
    payload_hashes: Sequence[bytes]
    leaf_hashes: Sequence[bytes]
    integrated_at: datetime
    nodes: Sequence[tuple[int, int, bytes]]


class AuditLogRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- sequencing -------------------------------------------------------------------

    def lock_for_integration(self) -> None:
        """Serialise integrations on PostgreSQL; SQLite serialises writers by itself."""
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(select(func.pg_advisory_xact_lock(INTEGRATION_LOCK)))

    def size(self) -> int:
        last = self._session.exec(select(func.max(AuditLeaf.position))).one()
        return 0 if last is None else int(last) + 1

    def pending_rows(self, *, limit: int) -> Sequence[Row_]:
        """Queued events, oldest first, however old: an event that waited through a long
        outage is integrated like any other (verify judges times against signed checkpoints).
        Plain tuples of the event's columns in `EVENT_COLUMNS` order: the sequencer's hot
        path, with no ORM object per event.

        The queue's first `limit` entries are read by its own index and each event then by
        its primary key, in one query: joined plainly to the events, the planners may walk
        every event by time and probe the queue for each, or hash the whole event table."""
        pending = AuditPending.__table__.c  # type: ignore[attr-defined]
        event_table = AuditEvent.__table__  # type: ignore[attr-defined]
        queued = (
            core_select(pending.event_id, pending.occurred_at)
            .order_by(pending.occurred_at, pending.event_id)
            .limit(limit)
            .subquery("queued")
        )
        columns = [event_table.c[name] for name in EVENT_COLUMNS]
        if self._session.get_bind().dialect.name == "postgresql":
            # LATERAL, kept apart by its LIMIT (id is the key: one row at most): one
            # primary-key probe per queued event, whatever the statistics say.
            found = (
                core_select(*columns)
                .where(event_table.c.id == queued.c.event_id)
                .limit(1)
                .lateral("found")
            )
            statement = core_select(*(found.c[name] for name in EVENT_COLUMNS)).select_from(
                queued.join(found, true())
            )
        else:  # SQLite joins by nested loops: over the queue's LIMIT, probing events by key
            statement = core_select(*columns).select_from(
                queued.join(event_table, event_table.c.id == queued.c.event_id)
            )
        statement = statement.order_by(queued.c.occurred_at, queued.c.event_id)
        return self._session.execute(statement).all()

    def any_pending(self) -> bool:
        """Whether anything waits in the queue (one index probe)."""
        found = self._session.exec(select(AuditPending.event_id).limit(1)).first()
        return found is not None

    def oldest_pending_at(self) -> datetime | None:
        """The time of the oldest queued event (one index probe), None if the queue is empty."""
        return self._session.exec(
            select(AuditPending.occurred_at).order_by(col(AuditPending.occurred_at)).limit(1)
        ).first()

    def pending_dated_before(self, moment: datetime, limit: int = 100) -> Sequence[AuditEvent]:
        """Queued events dated before `moment`, oldest first."""
        statement = (
            select(AuditEvent)
            .join(AuditPending, col(AuditPending.event_id) == col(AuditEvent.id))
            .where(col(AuditPending.occurred_at) < moment)
            .order_by(col(AuditPending.occurred_at))
            .limit(limit)
        )
        return self._session.exec(statement).all()

    def add_leaves(self, batch: LeafBatch) -> None:
        """Store a batch's leaves and subtree nodes, and take its events off the queue: one
        statement on PostgreSQL whatever the batch's size; SQLite, in process, takes three
        (executemany)."""
        if not batch.event_ids:
            return
        if self._session.get_bind().dialect.name != "postgresql":
            leaf_table = AuditLeaf.__table__  # type: ignore[attr-defined]
            node_table = AuditNode.__table__  # type: ignore[attr-defined]
            pending = AuditPending.__table__  # type: ignore[attr-defined]
            self._session.execute(
                insert(leaf_table),
                [
                    {
                        "position": position,
                        "event_id": event_id,
                        "payload_hash": payload_hash,
                        "leaf_hash": leaf_hash,
                        "integrated_at": batch.integrated_at,
                    }
                    for position, event_id, payload_hash, leaf_hash in zip(
                        range(batch.start, batch.start + len(batch.event_ids)),
                        batch.event_ids,
                        batch.payload_hashes,
                        batch.leaf_hashes,
                        strict=True,
                    )
                ],
            )
            if batch.nodes:
                self._session.execute(
                    insert(node_table),
                    [{"level": lv, "idx": index, "hash": h} for lv, index, h in batch.nodes],
                )
            self._session.execute(
                delete(pending).where(pending.c.event_id.in_(list(batch.event_ids)))
            )
            return
        if not len(batch.event_ids) == len(batch.payload_hashes) == len(batch.leaf_hashes):
            raise ValueError("a batch has one event id, payload hash and leaf hash per leaf")
        # Every fixed-size value of the batch travels packed in one bytes parameter per column
        # (16 bytes an id, 32 a hash), cut apart by the server: per-item array parameters cost
        # the sequencer more Python time than hashing the events does.
        self._session.execute(
            _WRITE_BATCH,
            {
                "start": batch.start,
                "count": len(batch.event_ids),
                "event_ids": b"".join(event_id.bytes for event_id in batch.event_ids),
                "payload_hashes": b"".join(batch.payload_hashes),
                "leaf_hashes": b"".join(batch.leaf_hashes),
                "integrated_at": batch.integrated_at,
                "levels": [level for level, _, _ in batch.nodes],
                "indexes": [index for _, index, _ in batch.nodes],
                "node_hashes": b"".join(hashed for _, _, hashed in batch.nodes),
            },
        )

    def add_checkpoint(self, row: dict[str, Any]) -> bool:
        """Insert a checkpoint row unless one is stored at its size already (the table is
        append-only: it is then left as it is); whether it was inserted. One statement."""
        table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
        dialect = self._session.get_bind().dialect.name
        if dialect not in ("postgresql", "sqlite"):
            if self.checkpoint(int(row["size"])) is not None:
                return False
            self._session.execute(insert(table).values(row))
            return True
        statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        inserted = self._session.execute(
            statement.values(row).on_conflict_do_nothing().returning(table.c.size)
        ).first()
        return inserted is not None

    def right_edge(self, size: int) -> list[bytes]:
        """The hashes of the perfect subtrees of a tree of `size` leaves, largest first (what
        `CompactRange` needs to append), in one query per table; LookupError if one is missing."""
        wanted = perfect_subtrees(0, size)
        found: dict[tuple[int, int], bytes] = {}
        leaf_positions = [index for level, index in wanted if level == 0]
        if leaf_positions:
            leaf = AuditLeaf.__table__.c  # type: ignore[attr-defined]
            for position, hashed in self._session.execute(
                core_select(leaf.position, leaf.leaf_hash).where(leaf.position.in_(leaf_positions))
            ):
                found[(0, int(position))] = bytes(hashed)
        inner = [(level, index) for level, index in wanted if level > 0]
        if inner:
            node = AuditNode.__table__.c  # type: ignore[attr-defined]
            for level, index, hashed in self._session.execute(
                core_select(node.level, node.idx, node.hash).where(
                    tuple_(node.level, node.idx).in_(inner)
                )
            ):
                found[(int(level), int(index))] = bytes(hashed)
        missing = [pair for pair in wanted if pair not in found]
        if missing:
            level, index = missing[0]
            raise LookupError(f"no stored hash for level {level}, index {index}")
        return [found[pair] for pair in wanted]

    def unqueued_without_leaf(
        self, limit: int = 100, *, since: datetime | None = None
    ) -> Sequence[AuditEvent]:
        """Events with no leaf and no place in the queue: nobody will ever integrate them.
        `since`: only events dated from then on (the incremental verify; by the time index)."""
        statement = (
            select(AuditEvent)
            .outerjoin(AuditLeaf, col(AuditLeaf.event_id) == col(AuditEvent.id))
            .outerjoin(AuditPending, col(AuditPending.event_id) == col(AuditEvent.id))
            .where(col(AuditLeaf.position).is_(None), col(AuditPending.event_id).is_(None))
            .order_by(col(AuditEvent.occurred_at))
            .limit(limit)
        )
        if since is not None:
            statement = statement.where(col(AuditEvent.occurred_at) >= since)
        return self._session.exec(statement).all()

    def node(self, level: int, index: int) -> bytes:
        """The stored hash of a perfect subtree; level 0 is a leaf."""
        if level == 0:
            found = self._session.exec(
                select(AuditLeaf.leaf_hash).where(AuditLeaf.position == index)
            ).first()
        else:
            found = self._session.exec(
                select(AuditNode.hash).where(AuditNode.level == level, AuditNode.index == index)
            ).first()
        if found is None:
            raise LookupError(f"no stored hash for level {level}, index {index}")
        return bytes(found)

    # --- checkpoints and proofs -------------------------------------------------------

    def latest_checkpoint(self) -> AuditCheckpoint | None:
        statement = select(AuditCheckpoint).order_by(col(AuditCheckpoint.size).desc()).limit(1)
        return self._session.exec(statement).first()

    def checkpoint(self, size: int) -> AuditCheckpoint | None:
        return self._session.get(AuditCheckpoint, size)

    def checkpoints(self, *, after: int = -1) -> Sequence[AuditCheckpoint]:
        statement = select(AuditCheckpoint).where(col(AuditCheckpoint.size) > after)
        return self._session.exec(statement.order_by(col(AuditCheckpoint.size))).all()

    def latest_checkpoints(self, limit: int) -> Sequence[AuditCheckpoint]:
        """The rows of the largest sizes, largest first."""
        statement = select(AuditCheckpoint).order_by(col(AuditCheckpoint.size).desc())
        return self._session.exec(statement.limit(limit)).all()

    def leaf_of_event(self, event_id: uuid.UUID) -> AuditLeaf | None:
        return self._session.exec(select(AuditLeaf).where(AuditLeaf.event_id == event_id)).first()

    # --- verification -----------------------------------------------------------------

    def leaves_with_events(self, batch: int = 5000) -> Iterator[StoredLeaf]:
        """Every leaf in position order with its event (None if the event row is gone) and the
        values of the id and time columns exactly as stored, before the column type parsed
        them: on SQLite one UUID or time has many spellings that parse alike."""
        names = [name for name, _ in stored_form_columns()]
        raw_columns = [
            type_coerce(column, NullType()).label(f"raw_{index}")
            for index, (_, column) in enumerate(stored_form_columns())
        ]

        def page(after: int, size: int) -> Sequence[StoredLeaf]:
            statement = (
                select(AuditLeaf, AuditEvent, *raw_columns)
                .outerjoin(AuditEvent, col(AuditEvent.id) == col(AuditLeaf.event_id))
                .where(col(AuditLeaf.position) > after)
                .order_by(col(AuditLeaf.position))
                .limit(size)
            )
            found: list[StoredLeaf] = []
            for row in self._session.exec(statement).all():
                values: list[Any] = list(row)
                raw = dict(zip(names, values[2:], strict=True))
                found.append(StoredLeaf(values[0], values[1], raw))
            return found

        return self._in_pages(page, lambda row: row.leaf.position, batch)

    def verification_rows(self, start: int = 0, chunk: int = 10_000) -> Generator[Row_]:
        """Every leaf from position `start` on, in position order, as one plain tuple per leaf
        streamed through one cursor (a server-side one on PostgreSQL), no ORM objects, every
        value exactly as the driver hands it over, before any column type processed it (see
        `verification_columns`): position, event_id, payload_hash, leaf_hash (`LEAF_FIELDS`),
        then the event's columns in `EVENT_COLUMNS` order (all None if the event row is gone).
        Close the generator if you stop early."""
        leaf_table = AuditLeaf.__table__  # type: ignore[attr-defined]
        event_table = AuditEvent.__table__  # type: ignore[attr-defined]
        leaf, event = leaf_table.c, event_table.c
        statement = (
            core_select(
                *(
                    type_coerce(column, NullType()).label(f"c{index}")
                    for index, column in enumerate(verification_columns())
                )
            )
            .select_from(leaf_table.outerjoin(event_table, event.id == leaf.event_id))
            .where(leaf.position >= start)
            .order_by(leaf.position)
        )
        result = self._session.execute(statement, execution_options={"yield_per": chunk})
        try:
            for partition in result.partitions():
                yield from partition
        finally:  # a server-side cursor left open would outlive a caller that stopped early
            result.close()

    def node_hash_chunks(
        self, level: int, start: int = 0, chunk: int = 10_000
    ) -> Generator[Sequence[Row_]]:
        """(index, hash) of the stored perfect subtrees of `level` from `start` on, in index
        order, as plain tuples streamed in lists of up to `chunk`. Close the generator if you
        stop early."""
        node = AuditNode.__table__.c  # type: ignore[attr-defined]
        statement = (
            core_select(node.idx, node.hash)
            .where(node.level == level, node.idx >= start)
            .order_by(node.idx)
        )
        result = self._session.execute(statement, execution_options={"yield_per": chunk})
        try:
            yield from result.partitions()
        finally:  # a server-side cursor left open would outlive a caller that stopped early
            result.close()

    def nodes_of_level(self, level: int, batch: int = 5000) -> Iterator[AuditNode]:
        def page(after: int, size: int) -> Sequence[AuditNode]:
            statement = (
                select(AuditNode)
                .where(AuditNode.level == level, col(AuditNode.index) > after)
                .order_by(col(AuditNode.index))
                .limit(size)
            )
            return self._session.exec(statement).all()

        return self._in_pages(page, lambda node: node.index, batch)

    def _in_pages(
        self,
        page: Callable[[int, int], Sequence[Row]],
        key: Callable[[Row], int],
        batch: int,
    ) -> Iterator[Row]:
        """Rows page by page (keyset on `key`), each page let go of before the next is read,
        so memory stays flat however long the log grows."""
        after = -1
        while rows := page(after, batch):
            for row in rows:
                items = (row.leaf, row.event) if isinstance(row, StoredLeaf) else (row,)
                for item in items:
                    if item is not None:
                        self._session.expunge(item)
            yield from rows
            after = key(rows[-1])

    def max_node_level(self) -> int:
        level = self._session.exec(select(func.max(AuditNode.level))).one()
        return 0 if level is None else int(level)

    # --- the auditor's search ---------------------------------------------------------

    def search(
        self, where: EventFilter, *, offset: int, limit: int
    ) -> tuple[Sequence[AuditEvent], int]:
        clauses = []
        if where.user_id is not None:
            clauses.append(col(AuditEvent.user_id) == where.user_id)
        if where.case_id is not None:
            clauses.append(col(AuditEvent.case_id) == where.case_id)
        if where.action is not None:
            clauses.append(col(AuditEvent.action) == where.action)
        if where.action_prefix is not None:
            clauses.append(col(AuditEvent.action).startswith(where.action_prefix))
        if where.outcome is not None:
            clauses.append(col(AuditEvent.outcome) == where.outcome)
        if where.occurred_from is not None:
            clauses.append(col(AuditEvent.occurred_at) >= where.occurred_from)
        if where.occurred_to is not None:
            clauses.append(col(AuditEvent.occurred_at) < where.occurred_to)
        total = self._session.exec(
            select(func.count()).select_from(AuditEvent).where(*clauses)
        ).one()
        statement = (
            select(AuditEvent)
            .where(*clauses)
            .order_by(col(AuditEvent.occurred_at).desc(), col(AuditEvent.id))
            .offset(offset)
            .limit(limit)
        )
        return self._session.exec(statement).all(), int(total)
