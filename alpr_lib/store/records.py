"""The system of record: users, certifications, audit log, manifest of read files, cameras...

Callers speak to a small :class:`RecordsDB` interface (portable SQL with ``?`` placeholders, explicit write
transactions) so a PostgreSQL backend can replace :class:`SQLiteRecords` without touching them. SQLite runs
in WAL mode so JupyterLab kernels, Voila and the CLI can use one store at the same time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from alpr_lib.errors import StoreError

__all__ = ["SCHEMA_VERSION", "RecordsDB", "SQLiteRecords"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    title TEXT NOT NULL,
    organisation TEXT NOT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('member', 'contractor', 'service')),
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS designations (
    designation TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username),
    title TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    assigned_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certifications (
    cert_id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL REFERENCES users(username),
    course TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    certified_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS certifications_user ON certifications(username, expires_at);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    session_id TEXT,
    username TEXT NOT NULL,
    organisation TEXT NOT NULL,
    action TEXT NOT NULL,
    query TEXT NOT NULL,
    purpose TEXT,
    case_number TEXT,
    result_count INTEGER,
    client TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied', 'error')),
    reason TEXT,
    store_kind TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_user_time ON audit_log(username, time);
CREATE INDEX IF NOT EXISTS audit_action ON audit_log(action);
CREATE INDEX IF NOT EXISTS audit_case ON audit_log(case_number);
-- The queried data elements as rows (element, value), queryable without parsing JSON by hand.
CREATE VIEW IF NOT EXISTS audit_elements AS
    SELECT a.seq AS seq, j.key AS element, j.value AS value FROM audit_log a, json_each(a.query) j;
CREATE TABLE IF NOT EXISTS ingest_batches (
    batch_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    source_name TEXT NOT NULL,
    username TEXT NOT NULL,
    rows_in INTEGER NOT NULL,
    rows_ingested INTEGER NOT NULL,
    rows_duplicate INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ingest_batches_sha ON ingest_batches(content_sha256);
CREATE TABLE IF NOT EXISTS store_files (
    path TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    partition TEXT,
    rows INTEGER NOT NULL,
    min_key TEXT,
    max_key TEXT,
    live INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS store_files_live ON store_files(kind, live, partition);
CREATE TABLE IF NOT EXISTS cameras (
    camera_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fixed', 'mobile')),
    lat REAL,
    lon REAL,
    direction TEXT,
    agency TEXT NOT NULL,
    unit TEXT,
    updated_at TEXT NOT NULL
);
-- Incidents analysts canvass around (alpr_lib.analysis.incidents); times are UTC ISO-8601.
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    offense_type TEXT NOT NULL,
    occurred_start TEXT NOT NULL,
    occurred_end TEXT NOT NULL,
    lat REAL,
    lon REAL,
    polygon_wkt TEXT,
    location_name TEXT,
    summary TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_case ON incidents(case_number);
-- A supervisor's approval of a canvass beyond the offense limits, for one case and one analyst.
CREATE TABLE IF NOT EXISTS approvals (
    approval_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    offense_type TEXT NOT NULL,
    analyst TEXT NOT NULL,
    incident_id TEXT,
    max_radius_m REAL NOT NULL,
    max_before_min REAL NOT NULL,
    max_after_min REAL NOT NULL,
    reason TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_case ON approvals(case_number, analyst);
"""


class RecordsDB(Protocol):
    """What callers need from the records database. SQL uses ``?`` placeholders and portable types."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def transaction(self) -> Any:
        """A context manager holding the write lock; statements inside commit together."""
        ...

    def close(self) -> None: ...


class SQLiteRecords:
    """SQLite in WAL mode; one connection per instance, guarded for use from widget callbacks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                         timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open records database {self.path}: {exc}") from None
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=30000")

    def migrate(self) -> None:
        """Create the tables if needed (idempotent)."""
        with self._lock:
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._conn.execute(sql, tuple(params)).fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, [tuple(r) for r in rows])

    @contextmanager
    def transaction(self) -> Iterator[SQLiteRecords]:
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
