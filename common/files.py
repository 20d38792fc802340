"""Files and directories that hold personal data or keys: readable by the owner alone.

The data directory and the key directory are 0700, the SQLite database and key files 0600,
whatever the process umask. SQLite gives its `-wal`, `-shm` and `-journal` files the mode of
the database file, so a database created 0600 before SQLite opens it keeps them private too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> None:
    """Create `path` (and any missing parents) 0700; tighten `path` itself if others may
    read or enter it. Existing parents are left as they are: they are not ours."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        directory.chmod(PRIVATE_DIR)  # mkdir's mode is reduced by the umask, never widened
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(stat.S_IMODE(path.stat().st_mode) & PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Tighten an existing file to 0600 if others may read or write it."""
    if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(PRIVATE_FILE)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def private_sqlite_file(url: str) -> None:
    """Create the SQLite database file 0600 before SQLite does, and tighten an existing one
    and its companions. A missing directory is created 0700. Not SQLite: nothing to do."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.parent.exists():
        private_directory(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        private_file(candidate)
