"""Numbered schema migrations of the records database, one text per dialect where they differ.

``schema_migrations`` records each applied version. :func:`migrate` applies the missing ones in order, each in
its own transaction under the write lock, so two processes opening a new store at once apply each exactly
once. Migration 1 is the schema of release 0.1.0 (written with ``IF NOT EXISTS`` so a store of that release,
which has the tables but no ``schema_migrations``, is adopted as it is); later ones change it. Never edit a
released migration: add the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

from alpr_lib.errors import StoreError
from alpr_lib.records.backend import Backend
from alpr_lib.timeutil import iso, utc_now

__all__ = ["MIGRATIONS", "Migration", "migrate", "pending", "schema_version"]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: str
    postgresql: str

    def sql(self, dialect: str) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _tables(integer_pk: str, real: str) -> str:
    """Release 0.1.0's tables in either dialect (they differ only in the auto-numbered key and REAL)."""
    return f"""
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
    cert_id {integer_pk},
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
    seq BIGINT PRIMARY KEY,
    time TEXT NOT NULL,
    session_id TEXT,
    username TEXT NOT NULL,
    organisation TEXT NOT NULL,
    action TEXT NOT NULL,
    query TEXT NOT NULL,
    purpose TEXT,
    case_number TEXT,
    result_count BIGINT,
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
CREATE TABLE IF NOT EXISTS ingest_batches (
    batch_id TEXT PRIMARY KEY,
    content_sha256 TEXT NOT NULL,
    source_name TEXT NOT NULL,
    username TEXT NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_ingested BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ingest_batches_sha ON ingest_batches(content_sha256);
CREATE TABLE IF NOT EXISTS store_files (
    path TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    partition TEXT,
    rows BIGINT NOT NULL,
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
    lat {real},
    lon {real},
    direction TEXT,
    agency TEXT NOT NULL,
    unit TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    offense_type TEXT NOT NULL,
    occurred_start TEXT NOT NULL,
    occurred_end TEXT NOT NULL,
    lat {real},
    lon {real},
    polygon_wkt TEXT,
    location_name TEXT,
    summary TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_case ON incidents(case_number);
CREATE TABLE IF NOT EXISTS approvals (
    approval_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    offense_type TEXT NOT NULL,
    analyst TEXT NOT NULL,
    incident_id TEXT,
    max_radius_m {real} NOT NULL,
    max_before_min {real} NOT NULL,
    max_after_min {real} NOT NULL,
    reason TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_case ON approvals(case_number, analyst);
"""


# PostgreSQL: the audit table refuses UPDATE, DELETE and TRUNCATE even for its owner. A superuser can still
# disable the triggers; only the HMAC chain (its key outside the database) and the checkpoints catch that.
_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION alpr_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ALPR audit log is append-only: % refused', TG_OP;
END $$;
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION alpr_audit_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION alpr_audit_append_only();
"""

_SETTINGS = """
CREATE TABLE IF NOT EXISTS department_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(username, ended_at);
"""

_TICKETS = """
ALTER TABLE sessions ADD COLUMN ticket_hash TEXT;
CREATE INDEX IF NOT EXISTS sessions_ticket ON sessions(ticket_hash);
"""

_CORRECTIONS = """
CREATE TABLE IF NOT EXISTS read_corrections (
    read_id TEXT PRIMARY KEY,
    original_plate TEXT NOT NULL,
    corrected_plate TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    corrected_by TEXT NOT NULL,
    corrected_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS read_corrections_plate ON read_corrections(corrected_plate);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "release 0.1.0 schema: users, certifications, sessions, audit log, manifest, cameras, "
                 "incidents, approvals",
              _tables("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL") + """
CREATE VIEW IF NOT EXISTS audit_elements AS
    SELECT a.seq AS seq, j.key AS element, j.value AS value FROM audit_log a, json_each(a.query) j;
""",
              _tables("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "DOUBLE PRECISION") + """
CREATE OR REPLACE VIEW audit_elements AS
    SELECT a.seq AS seq, j.key AS element, j.value AS value FROM audit_log a, jsonb_each_text(a.query::jsonb) j;
""" + _PG_APPEND_ONLY),
    Migration(2, "department settings in the records database; sessions by user",
              _SETTINGS, _SETTINGS),
    Migration(3, "session tickets (log in once per JupyterLab): the ticket's hash on its session",
              _TICKETS, _TICKETS),
    Migration(4, "misread corrections: a read's corrected plate beside its stored original",
              _CORRECTIONS, _CORRECTIONS),
)

# Areas add their migration at the number reserved for them (5 hotlists and alerts, 6 records management,
# 7 audit review, 8 training); they are applied in version order whatever their order in the tuple above.
if len({m.version for m in MIGRATIONS}) != len(MIGRATIONS):  # pragma: no cover - a development mistake
    raise RuntimeError("two migrations share a version number")
LATEST = max(m.version for m in MIGRATIONS)

_VERSIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


def schema_version(db: Backend) -> int:
    """The highest applied migration (0 for a database without ``schema_migrations``)."""
    db.execute(_VERSIONS)
    rows = db.query("SELECT max(version) AS v FROM schema_migrations")
    return int(rows[0]["v"] or 0)


def pending(db: Backend) -> list[Migration]:
    done = schema_version(db)
    return [m for m in MIGRATIONS if m.version > done]


def migrate(db: Backend) -> list[int]:
    """Apply every missing migration, each atomically; returns the versions applied."""
    applied = []
    current = schema_version(db)
    if current > LATEST:
        raise StoreError(f"the records database {db.location} is at schema version {current}, newer than this "
                         f"release knows ({LATEST}); upgrade alpr-workbench")
    for migration in sorted(MIGRATIONS, key=lambda m: m.version):
        if migration.version <= current:
            continue
        with db.transaction() as tx:
            if tx.query("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)):
                continue  # another process applied it while we waited for the lock
            tx.script(migration.sql(tx.dialect))
            tx.execute("INSERT INTO schema_migrations(version, description, applied_at) VALUES (?, ?, ?)",
                       (migration.version, migration.description, iso(utc_now())))
        applied.append(migration.version)
    return applied
