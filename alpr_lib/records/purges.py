"""The purge tables: one purge_runs row per purge (its cutoff, operator, totals and the audit record written
in the purge's own transaction), its per-day certificate (purge_days), and the files a committed purge still
has to delete (purge_pending_files: image files, which the manifest lists only by folder), so that a purge
killed after its commit finishes deleting them when run again. Also removes the derived read data (misread
corrections) of purged reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["RUN_COLUMNS", "add_pending", "certificates", "delete_corrections", "done_pending", "last_run",
           "pending_files", "record_run", "runs"]

RUN_COLUMNS = ("purge_id", "cutoff", "retention_days", "purged_by", "purged_at", "reads_deleted", "reads_held",
               "audit_seq", "audit_hash", "audit_anchor")


def record_run(db: Backend, run: dict[str, Any], days: list[tuple[str, int, int]]) -> None:
    """A purge and its per-day certificate rows (day, reads deleted, reads kept under hold)."""
    db.execute(f"INSERT INTO purge_runs({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
               tuple(run[c] for c in RUN_COLUMNS))
    if days:
        db.executemany("INSERT INTO purge_days(purge_id, day, reads_deleted, reads_held) VALUES (?, ?, ?, ?)",
                       [(run["purge_id"], day, deleted, held) for day, deleted, held in days])


def runs(db: Backend) -> list[dict[str, Any]]:
    return db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM purge_runs ORDER BY purged_at, purge_id")


def last_run(db: Backend) -> dict[str, Any] | None:
    rows = db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM purge_runs ORDER BY purged_at DESC, purge_id DESC "
                    "LIMIT 1")
    return rows[0] if rows else None


def certificates(db: Backend) -> list[dict[str, Any]]:
    """Every certificate row: per purge and day, with the purge's time, operator and audit head."""
    return db.query("SELECT d.purge_id AS purge_id, d.day AS day, d.reads_deleted AS reads_deleted, "
                    "d.reads_held AS reads_held, r.purged_at AS purged_at, r.purged_by AS purged_by, "
                    "r.cutoff AS cutoff, r.audit_seq AS audit_seq, r.audit_hash AS audit_hash "
                    "FROM purge_days d JOIN purge_runs r ON r.purge_id = d.purge_id "
                    "ORDER BY r.purged_at, d.purge_id, d.day")


def add_pending(db: Backend, purge_id: str, paths: Iterable[str]) -> None:
    rows = [(p, purge_id) for p in sorted(set(paths))]
    if rows:
        db.executemany("INSERT INTO purge_pending_files(path, purge_id) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)


def pending_files(db: Backend) -> list[str]:
    return [r["path"] for r in db.query("SELECT path FROM purge_pending_files ORDER BY path")]


def done_pending(db: Backend, paths: Iterable[str]) -> None:
    rows = [(p,) for p in paths]
    if rows:
        db.executemany("DELETE FROM purge_pending_files WHERE path = ?", rows)


def delete_corrections(db: Backend, read_ids: Iterable[str]) -> int:
    """Remove the misread corrections of purged reads (derived read data: a plate, a time)."""
    ids = sorted(set(read_ids))
    removed = 0
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        removed += db.execute(f"DELETE FROM read_corrections WHERE read_id IN ({', '.join('?' * len(chunk))})",
                              chunk)
    return removed
