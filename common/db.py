"""Database plumbing shared by every table: naming convention, column types, engines."""

from __future__ import annotations

import select
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import DateTime, String, cast, event, inspect, literal_column, type_coerce
from sqlalchemy.engine import Connection, Dialect, Engine, Result
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from common.background import Periodic
from common.clock import ensure_utc
from common.crypto import KeyMaterialError, field_keyring
from common.errors import Unavailable
from common.files import private_sqlite_file
from common.guard import install_statement_guard

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


_SQLITE_DATETIME_LENGTH = len("2026-12-03 12:57:35.568378")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC")
        return ensure_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the text stored, which SQLAlchemy writes as the UTC moment in one
        # form: "YYYY-MM-DD HH:MM:SS.ffffff", no offset. Parsing that with the offset
        # appended gives the aware value in one step, about a fifth of the cost of parsing
        # and then `replace(tzinfo=UTC)` (0.2 against 0.9 µs; a statistics report reads some
        # 150,000). Text in any other form is read as before.
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            if len(value) == _SQLITE_DATETIME_LENGTH:
                try:
                    return parse(value + "+00:00")
                except ValueError:
                    pass
            return ensure_utc(parse(value))

        return process


class SealedText(str):
    """A plaintext together with its ciphertext for one column of one row.

    It is the only value `EncryptedString` writes: the ORM events below seal each changed
    value with its row's id just before the flush, and `seal` does it for a Core statement.
    It equals (and reads as) the plaintext, so an object whose flush failed still holds text.
    """

    context: str
    row_id: uuid.UUID
    ciphertext: str


def seal(context: str, row_id: uuid.UUID, plaintext: str) -> SealedText:
    """Encrypt `plaintext` for column `context` (``table.column``) of the row `row_id`."""
    sealed = SealedText(plaintext)
    sealed.context = context
    sealed.row_id = row_id
    sealed.ciphertext = field_keyring().encrypt(plaintext, context=context, row_id=row_id)
    return sealed


_ROW_ID_SEPARATOR = "|"  # never in a stored value (base64url and dots)


def _row_id_column(column: ColumnElement[Any], context: str) -> ColumnElement[Any]:
    element: Any = column
    while isinstance(element, Label):
        element = element.element
    table = getattr(element, "table", None)
    primary_key = list(table.primary_key) if table is not None else []
    if len(primary_key) != 1:
        problem = "is read only with its row id: select it from its table or as the entity"
        raise KeyMaterialError(f"{context} {problem}")
    return primary_key[0]  # type: ignore[no-any-return]


class EncryptedString(TypeDecorator[str]):
    """Text encrypted with the field key ring, bound to its column and its row.

    Writing: only a `SealedText` sealed for this column is accepted (the ORM's flush seals
    every changed value, see `_seal_for_flush`); plain text is refused, so a Core or bulk
    statement cannot store a value in clear, nor compare one (a ciphertext never matches).

    Reading: every SELECT or RETURNING that names the column reads ``value|row id`` from the
    database (`column_expression`), so entity loads, joined rows, expired-attribute loads and
    bare column selects all decrypt with the id of the row the value was actually stored in.
    A read that cannot name the row (text SQL typed with this column, an expression over it)
    is refused. `accepts_marked_plaintext` says a migration left values in clear to encrypt
    (see `common.crypto.PLAINTEXT_MARK`); only `samsyn keys reencrypt` handles that mark.
    """

    impl = String
    cache_ok = True

    def __init__(self, context: str, *, accepts_marked_plaintext: bool = False) -> None:
        super().__init__()
        self.context = context
        self.accepts_marked_plaintext = accepts_marked_plaintext

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, SealedText) and value.context == self.context:
            return value.ciphertext
        raise KeyMaterialError(
            f"{self.context} is written only sealed for its row (through the ORM or "
            "common.db.seal) and never compared with a value"
        )

    def column_expression(self, colexpr: ColumnElement[str]) -> ColumnElement[str]:
        row_id = _row_id_column(colexpr, self.context)
        with_row = (
            type_coerce(colexpr, String())
            + literal_column(f"'{_ROW_ID_SEPARATOR}'", String())
            + cast(row_id, String())
        )
        return type_coerce(with_row, self)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        stored, separator, row = value.rpartition(_ROW_ID_SEPARATOR)
        if not separator:
            raise KeyMaterialError(f"{self.context} was read without its row id")
        return open_sealed(self.context, stored, row)


def open_sealed(context: str, stored: str, row_id: str) -> str:
    """Open a value of column `context` as stored, for the row whose id the database spelled
    `row_id` (its text). `EncryptedString` reads through this; a read of many rows that needs
    only some of the values selects them as stored and opens those (`Sealed`)."""
    row_key = _row_key(row_id)
    if row_key is None:
        raise KeyMaterialError(f"{context} was read without its row id")
    return field_keyring().decrypt_for_row(stored, context=context, row_key=row_key)


class Sealed:
    """An encrypted column's value as stored, with its row's id, opened on first use and then
    kept. For reads of many rows of which only some values are needed: the follow-up report
    reads every young person's home area and places only the people its facts reach."""

    __slots__ = ("_context", "_opened", "_row_id", "_stored")

    def __init__(self, context: str, stored: str, row_id: str) -> None:
        self._context = context
        self._stored = stored
        self._row_id = row_id
        self._opened: str | None = None

    def open(self) -> str:
        if self._opened is None:
            self._opened = open_sealed(self._context, self._stored, self._row_id)
        return self._opened

    def __repr__(self) -> str:  # never the value, opened or not
        return f"Sealed({self._context})"


def _row_key(text: str) -> bytes | None:
    """The 16 bytes of a row id as the database spells it in text (32 hex digits on SQLite,
    the dashed form on PostgreSQL), or None for anything else."""
    digits = text.replace("-", "")
    if len(digits) != 32:
        return None
    try:
        key = bytes.fromhex(digits)
    except ValueError:
        return None
    return key if len(key) == 16 else None  # `fromhex` skips spaces: 32 digits or nothing


_encrypted_by_mapper: dict[Mapper[Any], tuple[tuple[str, str], ...]] = {}


def encrypted_attributes(mapper: Mapper[Any]) -> tuple[tuple[str, str], ...]:
    """(attribute key, context) of each encrypted column of a mapped class."""
    found = _encrypted_by_mapper.get(mapper)
    if found is None:
        found = tuple(
            (prop.key, column.type.context)
            for prop in mapper.column_attrs
            for column in prop.columns[:1]
            if isinstance(column.type, EncryptedString)
        )
        if found and len(mapper.primary_key) != 1:
            raise KeyMaterialError(f"{mapper.class_.__name__}: encrypted columns need one row id")
        _encrypted_by_mapper[mapper] = found
    return found


def _seal_for_flush(mapper: Mapper[Any], target: Any, *, changed_only: bool) -> None:
    attributes = encrypted_attributes(mapper)
    if not attributes:
        return
    state = inspect(target)
    (row_id,) = mapper.primary_key_from_instance(target)
    if not isinstance(row_id, uuid.UUID):
        raise KeyMaterialError(f"{mapper.class_.__name__}: a row with encrypted columns has no id")
    for key, context in attributes:
        value = state.dict.get(key)
        if value is None or (changed_only and not state.attrs[key].history.has_changes()):
            continue
        setattr(target, key, seal(context, row_id, str(value)))


def _unseal_after_flush(mapper: Mapper[Any], target: Any) -> None:
    state = inspect(target)
    for key, _context in encrypted_attributes(mapper):
        value = state.dict.get(key)
        if isinstance(value, SealedText):
            set_committed_value(target, key, str(value))


@event.listens_for(Mapper, "before_insert")
def _seal_inserted(mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _seal_for_flush(mapper, target, changed_only=False)


@event.listens_for(Mapper, "before_update")
def _seal_updated(mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _seal_for_flush(mapper, target, changed_only=True)


@event.listens_for(Mapper, "after_insert")
def _unseal_inserted(mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _unseal_after_flush(mapper, target)


@event.listens_for(Mapper, "after_update")
def _unseal_updated(mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _unseal_after_flush(mapper, target)


BUSY_TIMEOUT_SECONDS = 10.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "ANALYZE")
_TURN = "samsyn_writer_turn"


def _sqlite_pragmas(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


class _Columns(Sequence[Any]):
    """A result's column descriptions, made when first looked at (`_DescribedOnDemand`)."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor
        self._result = cursor.pgresult
        self._columns: list[Any] | None = None

    def _made(self) -> list[Any]:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                raise RuntimeError("a result's description was read after the cursor moved on")
            self._columns = psycopg.Cursor.description.fget(self._cursor) or []  # type: ignore[attr-defined]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields if self._result is not None else 0

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]


class _DescribedOnDemand(psycopg.Cursor[Any]):
    """psycopg's cursor, with `description` made only when used.

    psycopg builds a `Column` object for every column of the result each time `description`
    is read, and SQLAlchemy reads it after every statement; but it looks at the columns only
    the first time it runs a statement, and then keeps the result's layout with the compiled
    statement. A case read's nine statements have ninety columns, and making them was 8 % of
    the read's time on PostgreSQL. SQLAlchemy reads the description right after executing,
    before anything else moves the cursor on, so the columns made later are the same."""

    @property
    def description(self) -> Sequence[Any] | None:  # type: ignore[override]
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description  # no rows, or a result without columns: as psycopg
        return _Columns(self)


def _postgresql_settings(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Planner settings for what this application asks of PostgreSQL, per connection.

    - No JIT compilation: every statement here runs in well under a second, and compiling one
      costs more than it saves. A statistics read at city scale crosses the planner's JIT
      threshold and spent 180 of its 540 ms compiling (tests/perf/README.md, the follow-up).
    - A streamed read (a server-side cursor) is always read to its end here, so it is planned
      for all its rows, not for the first tenth (`cursor_tuple_fraction`, made for reads that
      stop early): the statistics' meetings read took a quarter less.
    - The session's time zone is UTC, what every stored moment is (`UTCDateTime`), whatever
      the server's default. The driver then hands back datetimes in `datetime.UTC`, which
      it builds faster than in a named zone and which need no conversion: the follow-up's
      read of 50,000 cases' three moments took 0.09 s in the driver and 0.05 s converting
      under "Etc/UTC", 0.06 s and 0.01 s under UTC.
    """
    dbapi_connection.cursor_factory = _DescribedOnDemand
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute("SET cursor_tuple_fraction = 1")
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


# A pooled connection idle longer than this is pinged before use, whatever its socket says.
IDLE_PING_SECONDS = 10.0
_IDLE_SINCE = "samsyn_idle_since"


def _check_alive_on_checkout(engine: Engine) -> None:
    """Hand out only live PostgreSQL connections, without a round trip for one just used.

    SQLAlchemy's `pool_pre_ping` sends a statement at every checkout: one round trip in ten
    of a case read. Here a connection is pinged only if the server has said something since
    it went idle (its socket is readable: a connection between transactions hears from the
    server only when the server ends it, by a restart, a terminated backend or an idle
    timeout, or in the rare notice of a changed setting) or if it sat in the pool longer than
    `IDLE_PING_SECONDS` (a network that dropped it without a word). A failed ping replaces the
    connection and every one older than it in the pool, as the pre-ping does."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def connected(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if (
            idle_since is not None
            and time.monotonic() - idle_since < IDLE_PING_SECONDS
            and not _server_spoke(dbapi_connection)
        ):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError() from exc
            raise


def _server_spoke(dbapi_connection: psycopg.Connection[Any]) -> bool:
    """Whether anything waits to be read on an idle connection's socket (or it has none)."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True


class WriterTurnTimeout(Unavailable):
    """No turn to write to the SQLite database within the busy timeout."""


class WriterTurns:
    """First come, first served among one process's SQLite writers.

    SQLite lets one transaction write at a time; the others wait in its busy handler, which
    sleeps and retries, so under load a writer can lose the race again and again (measured:
    a p99 of 2.4 s with 16 clients). Taking turns here first, in arrival order, leaves SQLite
    no race to settle within the process. A turn is taken before a connection's first write
    (where SQLite's own write lock would be taken) and given up when the connection goes back
    to the pool, which the Session does at commit and rollback.

    A turn must be given up on every way a connection leaves its transaction, or every later
    writer of the process waits out the busy timeout and fails: checked in (also by the
    garbage collector, for a session nobody closed), invalidated, closed, or detached from
    the pool. Giving a turn up early is harmless (SQLite's own lock still keeps writers
    apart, only less fairly); keeping it too long stops every writer.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._taken = False

    def take(self, timeout: float) -> bool:
        with self._mutex:
            if not self._taken:
                self._taken = True
                return True
            mine = threading.Event()
            self._waiting.append(mine)
        if mine.wait(timeout):
            return True
        with self._mutex:
            if mine.is_set():  # handed over just as the wait ran out
                return True
            self._waiting.remove(mine)
            return False

    def give_up(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # straight to the next in line
            else:
                self._taken = False


def _take_turns(engine: Engine, timeout: float) -> None:
    turns = WriterTurns()

    @event.listens_for(engine, "before_cursor_execute")
    def before_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get(_TURN) or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        if not turns.take(timeout):
            raise WriterTurnTimeout()
        conn.info[_TURN] = True

    def give_up(record: ConnectionPoolEntry) -> None:
        if record.info.pop(_TURN, False):
            turns.give_up()

    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        give_up(record)

    @event.listens_for(engine, "invalidate")
    def invalidated(_dbapi_connection: Any, record: ConnectionPoolEntry, _exc: Any) -> None:
        give_up(record)  # the connection is closed next, ending its transaction

    @event.listens_for(engine, "close")
    def closed(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        give_up(record)

    @event.listens_for(engine, "detach")
    def detached(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # The record goes back to the pool without a checkin and forgets its info when it
        # reconnects; the detached connection writes on under SQLite's own lock alone.
        give_up(record)


def make_engine(
    url: str, *, echo: bool = False, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> Engine:
    """The application's engine. Every one refuses unmarked reads of consent-gated tables
    (`common.guard`); hide_parameters keeps bound values out of error messages and logs.
    `busy_timeout` (SQLite): how long a writer waits for its turn, and then for SQLite's
    own lock, before the request fails with `Unavailable` (503)."""
    if url.startswith("sqlite"):
        private_sqlite_file(url)  # 0600 before SQLite creates it, and so its -wal and -shm
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
        _take_turns(engine, busy_timeout)
    else:
        engine = create_engine(url, echo=echo, hide_parameters=True, pool_size=10, max_overflow=10)
        event.listen(engine, "connect", _postgresql_settings)
        _check_alive_on_checkout(engine)
    install_statement_guard(engine, metadata)
    return engine


PLANNER_STATISTICS_INTERVAL_SECONDS = 6 * 3600


def refresh_planner_statistics(engine: Engine) -> None:
    """SQLite chooses its query plans from the statistics ANALYZE gathers, and without them it
    guesses: in a unit of 50,000 cases it took "cases of this agency" for a few rows and read
    every meeting of the unit to find the reader's upcoming ones. PostgreSQL's autovacuum keeps
    its own statistics; for SQLite this gathers them (about a second at that size)."""
    if engine.dialect.name == "sqlite":
        gather_planner_statistics(engine)


def gather_planner_statistics(engine: Engine) -> None:
    """ANALYZE every table now, on either database (after a bulk load, for one)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def planner_statistics_keeper(engine: Engine) -> Periodic:
    """`refresh_planner_statistics` at once and then every few hours, as the data grow."""

    def one_round() -> bool:
        refresh_planner_statistics(engine)
        return False

    return Periodic("planner-statistics", PLANNER_STATISTICS_INTERVAL_SECONDS, one_round)


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def execute_columns(
    session: Session, statement: Executable, params: dict[str, Any]
) -> Result[*tuple[Any, ...]]:
    """Run a select of plain columns on the session's connection, in its transaction.

    The rows come back as they are, without the ORM's execution and loading, which cost
    several times the query itself on a hot read. Pending changes are flushed first (unless
    the session is in a `no_autoflush` block), as `Session.execute` would, so the rows
    include them. The statement guard sees the statement and its marks on this path too.
    """
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)
