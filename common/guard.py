"""The statement guard: no read of a consent-gated table reaches the database unmarked.

A table is consent-gated when its model says so (`gated()` in its `__table_args__`); a table
that refers to a case or a young person and is not gated says why (`not_gated(...)`), and a
test fails for any that says neither. Every statement an engine made by `common.db.make_engine`
sends is checked just before it goes to the driver, whatever built it: the ORM, Core,
`text()`, `table()` constructs, `exec_driver_sql`, lazy and expired-attribute loads. A
statement that reads a gated table (a SELECT, or an UPDATE/DELETE with RETURNING) must carry
one of the marks below, or it raises `UnscopedRead` and nothing is read:

- `SCOPED`: built by a repository from the actor's `CaseScope` (`consent.guard.scoped`);
- `SYSTEM`: a system job that acts by rule, not for a person (`consent.guard.system`);
- `UNSCOPED_BECAUSE`: a deliberate read that shows no case data, with the reason.

Inserts pass: a writer has what it writes. A refresh of an object already loaded under a mark
(or written by this session) passes too; a refresh of any other object is refused, so an
object made up with another case's id cannot be used to read that case.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, ORMExecuteState, QueryContext, Session
from sqlalchemy.orm.state import InstanceState

ACCESS = "samsyn_access"
GATED = "gated"
NOT_GATED = "not_gated"
SCOPED = "samsyn_scoped"
SYSTEM = "samsyn_system"
UNSCOPED_BECAUSE = "samsyn_unscoped_because"
_MARKS = (SCOPED, SYSTEM, UNSCOPED_BECAUSE)
_VOUCHED = "samsyn_vouched_identities"


class UnscopedRead(RuntimeError):
    """A read of consent-gated data that did not go through the access policy."""


def gated() -> dict[str, Any]:
    """`__table_args__` entry of a consent-gated table."""
    return {"info": {ACCESS: GATED}}


def not_gated(because: str) -> dict[str, Any]:
    """`__table_args__` entry of a table that refers to a case or young person but is not
    consent-gated; `because` says who may read it instead."""
    return {"info": {ACCESS: NOT_GATED, "because": because}}


def gated_table_names(metadata: MetaData) -> frozenset[str]:
    return _gated_names(metadata, len(metadata.tables))


@lru_cache(maxsize=8)
def _gated_names(metadata: MetaData, _table_count: int) -> frozenset[str]:
    """Cached per number of tables: models imported later add theirs."""
    return frozenset(
        name for name, table in metadata.tables.items() if table.info.get(ACCESS) == GATED
    )


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})
_NO_ROWS = frozenset(
    {"CREATE", "DROP", "ALTER", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
)


@lru_cache(maxsize=4096)
def _gated_reads(statement: str, gated_names: frozenset[str]) -> tuple[str, ...]:
    """The gated tables a statement reads. Deny by default: only plain writes (an INSERT,
    UPDATE or DELETE that neither selects nor returns rows) and DDL read nothing."""
    words = statement.lstrip(" \t\n(").split(None, 1)
    head = words[0].upper() if words else ""
    if head in _NO_ROWS:
        return ()
    if head in _WRITES and re.search(r"\b(SELECT|RETURNING)\b", statement, re.I) is None:
        return ()
    if head == "INSERT" and re.search(r"\bSELECT\b", statement, re.I) is None:
        return ()  # INSERT ... RETURNING (the ORM's inserts) hands back the new rows only
    return tuple(sorted(name for name in gated_names if _mentions(statement, name)))


def _mentions(statement: str, table: str) -> bool:
    return re.search(rf'(?<![\w"]){table}(?![\w])|"{table}"', statement) is not None


def install_statement_guard(engine: Engine, metadata: MetaData) -> None:
    """Refuse unmarked reads of `metadata`'s gated tables on this engine."""

    @event.listens_for(engine, "before_cursor_execute")
    def refuse_unmarked(
        _conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
    ) -> None:
        options = getattr(context, "execution_options", None) or {}
        if any(options.get(mark) for mark in _MARKS):
            return
        read = _gated_reads(statement, gated_table_names(metadata))
        if read:
            raise UnscopedRead(
                f"unscoped read of {', '.join(read)}: go through a repository built with "
                "the actor's CaseScope, or a system repository"
            )


def _identities(session: Session) -> set[Any]:
    found: set[Any] = session.info.setdefault(_VOUCHED, set())
    return found


@event.listens_for(Mapper, "load")
def _vouch_for_marked_loads(target: object, context: QueryContext) -> None:
    options = context.execution_options or {}
    if any(options.get(mark) for mark in _MARKS) and context.session is not None:
        state: InstanceState[Any] = target._sa_instance_state  # type: ignore[attr-defined]
        _identities(context.session).add(state.key)


@event.listens_for(Session, "pending_to_persistent")
def _vouch_for_own_writes(session: Session, instance: object) -> None:
    state: InstanceState[Any] = instance._sa_instance_state  # type: ignore[attr-defined]
    _identities(session).add(state.key)


@event.listens_for(Session, "do_orm_execute")
def _mark_refresh_of_vouched_rows(state: ORMExecuteState) -> None:
    if not state.is_column_load:
        return
    refreshed: InstanceState[Any] | None = getattr(state.load_options, "_refresh_state", None)
    if refreshed is not None and refreshed.key in _identities(state.session):
        state.update_execution_options(**{SCOPED: True})
