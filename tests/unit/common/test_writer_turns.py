"""SQLite writers of one process take turns in the order they arrive."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from common.db import WriterTurns, make_engine, new_session
from common.errors import Unavailable


def test_turns_go_in_arrival_order() -> None:
    turns = WriterTurns()
    assert turns.take(timeout=1)
    served: list[int] = []
    threads = []
    for number in range(5):
        ready = threading.Event()

        def wait_for_turn(number: int = number, ready: threading.Event = ready) -> None:
            ready.set()
            assert turns.take(timeout=10)
            served.append(number)
            turns.give_up()

        thread = threading.Thread(target=wait_for_turn)
        thread.start()
        ready.wait()
        # Make sure this writer is in line before the next one arrives.
        while len(turns._waiting) < number + 1:
            threading.Event().wait(0.001)
        threads.append(thread)
    turns.give_up()
    for thread in threads:
        thread.join()
    assert served == [0, 1, 2, 3, 4]


def test_a_writer_that_waited_too_long_leaves_the_line() -> None:
    turns = WriterTurns()
    assert turns.take(timeout=1)
    assert not turns.take(timeout=0.01)
    assert not turns._waiting
    turns.give_up()
    assert turns.take(timeout=0.01)  # free again: the one who left is not handed the turn


# --- the turn is given back on every way out of a transaction ---------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A busy timeout of a fraction of a second: a turn left behind fails the next writer."""
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}", busy_timeout=0.2)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield engine
    engine.dispose()


def _write(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")


def test_a_detached_connection_gives_its_turn_back(engine: Engine) -> None:
    connection = engine.connect()
    connection.exec_driver_sql("INSERT INTO t VALUES (1)")  # takes the turn
    connection.connection.detach()
    connection.rollback()
    connection.close()
    _write(engine)


def test_an_invalidated_connection_gives_its_turn_back(engine: Engine) -> None:
    connection = engine.connect()
    connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    connection.invalidate()
    _write(engine)  # before the invalidated connection is even closed
    connection.close()
    _write(engine)


def test_a_session_nobody_closed_gives_its_turn_back_when_collected(engine: Engine) -> None:
    session = new_session(engine)
    session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
    del session
    gc.collect()
    _write(engine)


def test_a_failed_write_gives_its_turn_back(engine: Engine) -> None:
    with pytest.raises(OperationalError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO missing VALUES (1)")
    _write(engine)


def test_a_writer_without_a_turn_gets_a_temporary_error(engine: Engine) -> None:
    with engine.connect() as holder:
        holder.exec_driver_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(Unavailable):
            _write(engine)
        holder.rollback()
    _write(engine)
