"""The manifest of the read store: which Parquet files are live (store_files) and which batches were
ingested (ingest_batches).

A file becomes visible to readers only when the transaction that lists it commits, and a replaced file
stops being visible in the same transaction that lists its replacement; that swap is what makes ingest,
merges and compaction atomic. Paths are relative to the store directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from alpr_lib.records.backend import Backend

__all__ = ["BatchRow", "FileEntry", "add_files", "batch_with_content", "day_summary", "dictionary_levels",
           "files_overlapping", "last_commit", "live_paths", "live_with_rows", "record_batch", "retire"]


@dataclass(frozen=True)
class FileEntry:
    """One data file: its kind (reads, by_plate, plates, plates_delta, images), partition and key range."""

    path: str
    kind: str
    partition: str | None = None
    rows: int = 0
    min_key: str | None = None
    max_key: str | None = None


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    content_sha256: str
    source_name: str
    username: str
    rows_in: int
    rows_ingested: int
    rows_duplicate: int
    rows_rejected: int
    committed_at: str


def add_files(db: Backend, batch_id: str, files: list[FileEntry], created_at: str) -> None:
    db.executemany("INSERT INTO store_files(path, batch_id, kind, partition, rows, min_key, max_key, live, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                   [(f.path, batch_id, f.kind, f.partition, f.rows, f.min_key, f.max_key, created_at)
                    for f in files])


def retire(db: Backend, paths: list[str]) -> None:
    """Mark files as no longer live (the caller deletes them after its transaction commits)."""
    db.executemany("UPDATE store_files SET live = 0 WHERE path = ?", [(p,) for p in paths])


def live_paths(db: Backend, kind: str | tuple[str, ...] | None = None, *, partition: str | None = None,
               first_partition: str | None = None, last_partition: str | None = None) -> list[str]:
    """Live files (all kinds when ``kind`` is None), ordered by partition then path."""
    sql = "SELECT path FROM store_files WHERE live = 1"
    params: list[object] = []
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    for op, value in (("=", partition), (">=", first_partition), ("<=", last_partition)):
        if value is not None:
            sql += f" AND partition {op} ?"
            params.append(value)
    return [r["path"] for r in db.query(sql + " ORDER BY partition, path", params)]


def live_with_rows(db: Backend, kind: str, *, max_rows: int | None = None) -> list[FileEntry]:
    """Live files of ``kind`` (with fewer than ``max_rows`` rows, if given) in the order they were written."""
    sql = "SELECT path, kind, partition, rows, min_key, max_key FROM store_files WHERE kind = ? AND live = 1"
    params: list[object] = [kind]
    if max_rows is not None:
        sql += " AND rows < ?"
        params.append(max_rows)
    return [FileEntry(r["path"], r["kind"], r["partition"], int(r["rows"]), r["min_key"], r["max_key"])
            for r in db.query(sql + " ORDER BY path", params)]


def dictionary_levels(db: Backend) -> list[tuple[str, str]]:
    """The live plate-dictionary files as (kind, path): the main level first, then deltas oldest first."""
    rows = db.query("SELECT path, kind FROM store_files WHERE kind IN ('plates', 'plates_delta') AND live = 1 "
                    "ORDER BY CASE WHEN kind = 'plates_delta' THEN 1 ELSE 0 END, created_at, path")
    return [(r["kind"], r["path"]) for r in rows]


def files_overlapping(db: Backend, kind: str, lo: str, hi: str, *, partition: str | None = None) -> list[str]:
    """Live files of ``kind`` whose key range meets [lo, hi] (read ids: duplicate checks, lookups by id)."""
    sql = "SELECT path FROM store_files WHERE kind = ? AND live = 1 AND NOT (max_key < ? OR min_key > ?)"
    params: list[object] = [kind, lo, hi]
    if partition is not None:
        sql += " AND partition = ?"
        params.append(partition)
    return [r["path"] for r in db.query(sql + " ORDER BY path", params)]


def day_summary(db: Backend) -> dict[str, object]:
    """Live read files: how many, how many reads, the first and last day."""
    row = db.query("SELECT count(*) AS n, coalesce(sum(rows), 0) AS reads, min(partition) AS first, "
                   "max(partition) AS last FROM store_files WHERE kind = 'reads' AND live = 1")[0]
    return {"files": int(row["n"]), "reads": int(row["reads"]), "first_day": row["first"], "last_day": row["last"]}


def batch_with_content(db: Backend, content_sha256: str) -> str | None:
    """The batch that already ingested this exact content, if any (re-ingest is a no-op)."""
    rows = db.query("SELECT batch_id FROM ingest_batches WHERE content_sha256 = ?", (content_sha256,))
    return rows[0]["batch_id"] if rows else None


def record_batch(db: Backend, batch: BatchRow) -> None:
    db.execute("INSERT INTO ingest_batches(batch_id, content_sha256, source_name, username, rows_in, "
               "rows_ingested, rows_duplicate, rows_rejected, committed_at) VALUES (?,?,?,?,?,?,?,?,?)",
               (batch.batch_id, batch.content_sha256, batch.source_name, batch.username, batch.rows_in,
                batch.rows_ingested, batch.rows_duplicate, batch.rows_rejected, batch.committed_at))


def last_commit(db: Backend) -> str | None:
    rows = db.query("SELECT max(committed_at) AS t FROM ingest_batches")
    return rows[0]["t"] if rows else None
