"""The records database as a SQLite file inside the store (the embedded default).

WAL mode lets JupyterLab kernels, Voila and the CLI use one store at once; ``synchronous=FULL`` makes a
committed transaction survive a power cut. One connection per instance, guarded by a lock because widget
callbacks may call in from another thread.

The file holds password hashes and the audit log, so it is created 0600 before SQLite opens it (SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode), and an existing database, WAL or shared-memory
file of ours with wider bits is tightened on every open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alpr_lib.errors import StoreError
from alpr_lib.private_files import open_private, tighten
from alpr_lib.records.backend import Row

__all__ = ["SQLiteBackend"]


def _make_private(path: Path) -> None:
    """Create the database file 0600 if it is missing; tighten it and its WAL/shared-memory files if ours."""
    if not path.exists() and not path.is_symlink():
        try:
            open_private(path, "xb").close()
        except FileExistsError:  # another process created it meanwhile
            pass
        except FileNotFoundError:  # no such directory: let SQLite name the problem
            return
    for suffix in ("", "-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + suffix))


class SQLiteBackend:
    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        try:
            _make_private(self.path)
        except OSError as exc:
            raise StoreError(f"cannot open the records database {self.path}: {exc}") from None
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache (the default is 2 MiB): a batch's alerts land on index pages all over
            # a large table; the cache grows only as far as it is used
            self._conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the records database {self.path}: {exc}") from None
        self._lock = threading.RLock()
        self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Row]:
        with self._lock:
            return [dict(row) for row in self._conn.execute(sql, tuple(params)).fetchall()]

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            self._conn.executemany(sql, [tuple(r) for r in rows])

    def script(self, sql: str) -> None:
        """Statement by statement (``executescript`` would commit an open transaction first)."""
        with self._lock:
            statement = ""
            for line in sql.splitlines(keepends=True):
                statement += line
                if sqlite3.complete_statement(statement):
                    self._conn.execute(statement)
                    statement = ""
            if statement.strip():
                self._conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[SQLiteBackend]:
        """Serialise writers across processes (BEGIN IMMEDIATE); nested use joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
