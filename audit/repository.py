"""Every query on the audit tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditNode, AuditPending

Row = TypeVar("Row")

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


def try_to_lead(connection: Connection) -> bool:
    """Take the sequencer's leadership (a session-level PostgreSQL advisory lock), if free."""
    acquired = connection.execute(select(func.pg_try_advisory_lock(LEADER_LOCK))).scalar()
    connection.commit()  # the lock outlives the transaction; do not sit idle in one
    return bool(acquired)


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

    def pending_events(self, *, since: datetime, limit: int) -> Sequence[AuditEvent]:
        """Queued events, oldest first, looking back only to `since` (an older one was
        inserted behind the application's back: verify reports it, nobody integrates it).

        The queue is read on its own, by its own index: joined to the events, the planners
        may walk every event of the look-back by time and probe the queue for each
        (measured: 319 ms per idle round on SQLite with a million recent events)."""
        queued = self._session.exec(
            select(AuditPending.event_id)
            .where(col(AuditPending.occurred_at) >= since)
            .order_by(col(AuditPending.occurred_at), col(AuditPending.event_id))
            .limit(limit)
        ).all()
        if not queued:
            return []
        statement = (
            select(AuditEvent)
            .where(col(AuditEvent.id).in_(queued))
            .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
        )
        return self._session.exec(statement).all()

    def add_leaves(self, leaves: Sequence[dict[str, Any]], nodes: Sequence[dict[str, Any]]) -> None:
        """Store leaves and subtree nodes in two multi-row inserts, and take the leaves' events
        off the queue."""
        self._session.execute(insert(AuditLeaf), list(leaves))
        if nodes:
            self._session.execute(insert(AuditNode), list(nodes))
        self._session.execute(
            delete(AuditPending).where(
                col(AuditPending.event_id).in_([leaf["event_id"] for leaf in leaves])
            )
        )

    def unqueued_without_leaf(self, limit: int = 100) -> Sequence[AuditEvent]:
        """Events with no leaf and no place in the queue: nobody will ever integrate them."""
        statement = (
            select(AuditEvent)
            .outerjoin(AuditLeaf, col(AuditLeaf.event_id) == col(AuditEvent.id))
            .outerjoin(AuditPending, col(AuditPending.event_id) == col(AuditEvent.id))
            .where(col(AuditLeaf.position).is_(None), col(AuditPending.event_id).is_(None))
            .order_by(col(AuditEvent.occurred_at))
            .limit(limit)
        )
        return self._session.exec(statement).all()

    def unintegrated_before(self, moment: datetime, limit: int = 100) -> Sequence[AuditEvent]:
        statement = (
            select(AuditEvent)
            .outerjoin(AuditLeaf, col(AuditLeaf.event_id) == col(AuditEvent.id))
            .where(col(AuditLeaf.position).is_(None), col(AuditEvent.occurred_at) < moment)
            .order_by(col(AuditEvent.occurred_at))
            .limit(limit)
        )
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

    def add(self, *rows: AuditLeaf | AuditNode | AuditCheckpoint) -> None:
        self._session.add_all(rows)

    def flush(self) -> None:
        self._session.flush()

    # --- checkpoints and proofs -------------------------------------------------------

    def latest_checkpoint(self) -> AuditCheckpoint | None:
        statement = select(AuditCheckpoint).order_by(col(AuditCheckpoint.size).desc()).limit(1)
        return self._session.exec(statement).first()

    def checkpoint(self, size: int) -> AuditCheckpoint | None:
        return self._session.get(AuditCheckpoint, size)

    def checkpoints(self) -> Sequence[AuditCheckpoint]:
        return self._session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.size))).all()

    def leaf_of_event(self, event_id: uuid.UUID) -> AuditLeaf | None:
        return self._session.exec(select(AuditLeaf).where(AuditLeaf.event_id == event_id)).first()

    # --- verification -----------------------------------------------------------------

    def leaves_with_events(
        self, batch: int = 5000
    ) -> Iterator[tuple[AuditLeaf, AuditEvent | None]]:
        """Every leaf in position order with its event (None if the event row is gone)."""

        def page(after: int, size: int) -> Sequence[tuple[AuditLeaf, AuditEvent | None]]:
            statement = (
                select(AuditLeaf, AuditEvent)
                .outerjoin(AuditEvent, col(AuditEvent.id) == col(AuditLeaf.event_id))
                .where(col(AuditLeaf.position) > after)
                .order_by(col(AuditLeaf.position))
                .limit(size)
            )
            return [(leaf, event) for leaf, event in self._session.exec(statement).all()]

        return self._in_pages(page, lambda row: row[0].position, batch)

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
                for item in row if isinstance(row, tuple) else (row,):
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
