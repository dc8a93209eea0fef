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
from alpr_lib.records.flag_reviews import SCHEMA as _FLAG_REVIEWS  # migration 7 (audit review)
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

def _hotlists(real: str) -> str:
    """Hotlists, their entries, users' source grants (462.3(e)), alerts and the reads of each alert."""
    return f"""
CREATE TABLE IF NOT EXISTS hotlists (
    list_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    owner TEXT NOT NULL,
    refresh_days INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    layout TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    refreshed_at TEXT NOT NULL,
    refreshed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hotlist_entries (
    entry_id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL REFERENCES hotlists(list_id),
    plate TEXT NOT NULL,
    is_pattern INTEGER NOT NULL,
    state TEXT,
    category TEXT NOT NULL,
    entered_at TEXT,
    expires_at TEXT,
    notes TEXT,
    row_number INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hotlist_entries_list ON hotlist_entries(list_id);
CREATE TABLE IF NOT EXISTS hotlist_grants (
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (username, source)
);
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    read_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    list_id TEXT NOT NULL,
    list_name TEXT NOT NULL,
    source TEXT NOT NULL,
    plate TEXT NOT NULL,
    entry_plate TEXT NOT NULL,
    entry_state TEXT,
    read_state TEXT,
    state_flag TEXT,
    category TEXT NOT NULL,
    priority INTEGER NOT NULL,
    match_kind TEXT NOT NULL,
    differing TEXT,
    stale INTEGER NOT NULL,
    entry_notes TEXT,
    camera_id TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    last_read_id TEXT NOT NULL,
    last_captured_at TEXT NOT NULL,
    reads INTEGER NOT NULL,
    lat {real},
    lon {real},
    image_ref TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    verified_by TEXT,
    verified_at TEXT,
    clets_ref TEXT,
    vehicle_matches INTEGER,
    vehicle_description TEXT,
    rejected_reason TEXT,
    rejected_by TEXT,
    rejected_at TEXT,
    disposition TEXT,
    disposed_by TEXT,
    disposed_at TEXT,
    note TEXT,
    notified TEXT
);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, priority, captured_at);
CREATE INDEX IF NOT EXISTS alerts_encounter ON alerts(plate, camera_id, last_captured_at);
CREATE TABLE IF NOT EXISTS alert_reads (
    alert_id TEXT NOT NULL REFERENCES alerts(alert_id),
    read_id TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    PRIMARY KEY (alert_id, read_id)
);
CREATE INDEX IF NOT EXISTS alert_reads_read ON alert_reads(read_id);
"""


# Training (issue 15): attempts at the course's exercises; certificates are certification rows that name the
# course version they were earned on, the basis (a sign-off after the course, or training recorded by hand) and
# any revocation; accounts carry their last activity and a suspension after inactivity.
_TRAINING = """
CREATE TABLE IF NOT EXISTS training_attempts (
    attempt_id {integer_pk},
    username TEXT NOT NULL,
    course_version TEXT NOT NULL,
    module_id TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    feedback TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    store_kind TEXT NOT NULL,
    session_id TEXT
);
CREATE INDEX IF NOT EXISTS training_attempts_user ON training_attempts(username, course_version, module_id);
ALTER TABLE certifications ADD COLUMN course_version TEXT;
ALTER TABLE certifications ADD COLUMN basis TEXT;
ALTER TABLE certifications ADD COLUMN score REAL;
ALTER TABLE certifications ADD COLUMN revoked_at TEXT;
ALTER TABLE certifications ADD COLUMN revoked_by TEXT;
ALTER TABLE certifications ADD COLUMN revoked_reason TEXT;
ALTER TABLE users ADD COLUMN last_active_at TEXT;
ALTER TABLE users ADD COLUMN suspended_at TEXT;
ALTER TABLE users ADD COLUMN suspended_reason TEXT
"""

# Records management (issue 13): legal holds and the reads they hold, purge runs with their per-day certificate
# and the files a committed purge still has to delete, evidence packages and their custody, release requests.
_RECORDS_MANAGEMENT = """
CREATE TABLE IF NOT EXISTS legal_holds (
    hold_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    reason TEXT NOT NULL,
    plate TEXT,
    start_at TEXT,
    end_at TEXT,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    released_by TEXT,
    released_at TEXT,
    release_reason TEXT
);
CREATE INDEX IF NOT EXISTS legal_holds_case ON legal_holds(case_number);
CREATE TABLE IF NOT EXISTS hold_reads (
    hold_id TEXT NOT NULL REFERENCES legal_holds(hold_id),
    read_id TEXT NOT NULL,
    PRIMARY KEY (hold_id, read_id)
);
CREATE INDEX IF NOT EXISTS hold_reads_read ON hold_reads(read_id);
CREATE TABLE IF NOT EXISTS purge_runs (
    purge_id TEXT PRIMARY KEY,
    cutoff TEXT NOT NULL,
    retention_days INTEGER NOT NULL,
    purged_by TEXT NOT NULL,
    purged_at TEXT NOT NULL,
    reads_deleted BIGINT NOT NULL,
    reads_held BIGINT NOT NULL,
    audit_seq BIGINT NOT NULL,
    audit_hash TEXT NOT NULL,
    audit_anchor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purge_days (
    purge_id TEXT NOT NULL REFERENCES purge_runs(purge_id),
    day TEXT NOT NULL,
    reads_deleted BIGINT NOT NULL,
    reads_held BIGINT NOT NULL,
    PRIMARY KEY (purge_id, day)
);
CREATE TABLE IF NOT EXISTS purge_pending_files (
    path TEXT PRIMARY KEY,
    purge_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence_packages (
    package_id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    item TEXT NOT NULL,
    reason TEXT NOT NULL,
    exported_by TEXT NOT NULL,
    exported_at TEXT NOT NULL,
    reads BIGINT NOT NULL,
    images BIGINT NOT NULL,
    encrypted INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    hold_id TEXT,
    release_id TEXT,
    location TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence_custody (
    package_id TEXT NOT NULL REFERENCES evidence_packages(package_id),
    entry INTEGER NOT NULL,
    event TEXT NOT NULL,
    from_person TEXT,
    to_person TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    note TEXT,
    entry_sha256 TEXT NOT NULL,
    PRIMARY KEY (package_id, entry)
);
CREATE TABLE IF NOT EXISTS release_requests (
    request_id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    agency_type TEXT NOT NULL,
    state TEXT NOT NULL,
    requester TEXT NOT NULL,
    contact TEXT NOT NULL,
    purpose TEXT NOT NULL,
    case_number TEXT,
    plate TEXT NOT NULL,
    start_at TEXT,
    end_at TEXT,
    scope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('refused', 'pending', 'approved', 'denied', 'fulfilled')),
    legal_reason TEXT,
    routed_to TEXT,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT,
    fulfilled_by TEXT,
    fulfilled_at TEXT,
    package_id TEXT,
    reads_released BIGINT
);
CREATE INDEX IF NOT EXISTS release_requests_status ON release_requests(status)
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
    Migration(5, "hotlists and alerts: lists, entries, source grants (462.3(e)), alerts and their reads",
              _hotlists("REAL"), _hotlists("DOUBLE PRECISION")),
    Migration(6, "records management: legal holds, purge certificates, evidence packages and custody, release "
                 "requests (462.4, 462.7)",
              _RECORDS_MANAGEMENT, _RECORDS_MANAGEMENT),
    Migration(7, "audit review: auditors' findings on flags", _FLAG_REVIEWS, _FLAG_REVIEWS),
    Migration(8, "training: exercise attempts, certificates naming their course version and revocation, "
                 "account activity and inactivity suspension",
              _TRAINING.format(integer_pk="INTEGER PRIMARY KEY AUTOINCREMENT"),
              _TRAINING.format(integer_pk="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")),
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
