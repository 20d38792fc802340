"""Personal data and keys on disk: the data directory 0700, the SQLite files 0600."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from common.db import make_engine
from common.files import private_directory, private_sqlite_file, sqlite_path
from deploy import migrate


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual umask 022 would make new files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_directory_and_its_new_parents_are_0700(tmp_path: Path) -> None:
    private_directory(tmp_path / "a" / "data")
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "data") == 0o700


def test_an_existing_open_directory_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    private_directory(data)
    assert mode(data) == 0o700


def test_the_sqlite_database_of_a_new_engine_is_0600_and_so_are_wal_and_shm(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "samsyn.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(p.exists() for p in companions)  # WAL mode, the connection still open
        assert [mode(p) for p in [path, *companions]] == [0o600, 0o600, 0o600]
    engine.dispose()
    assert mode(path.parent) == 0o700


def test_migrating_a_new_database_creates_it_0600(tmp_path: Path) -> None:
    path = tmp_path / "samsyn.db"
    migrate.upgrade(f"sqlite:///{path}")
    assert mode(path) == 0o600


def test_existing_database_files_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "samsyn.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.commit()
        assert mode(path) == 0o644
        wal = Path(f"{path}-wal")
        assert wal.exists()
        private_sqlite_file(f"sqlite:///{path}")
        assert mode(path) == 0o600
        assert mode(wal) == 0o600


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "postgresql+psycopg://u@h/db"])
def test_no_file_for_memory_or_other_databases(url: str) -> None:
    assert sqlite_path(url) is None
    private_sqlite_file(url)  # nothing to do, nothing created
