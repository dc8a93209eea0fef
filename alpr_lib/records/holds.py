"""The legal_holds and hold_reads tables: reads kept past retention because they are or will be evidence
(policy 462.4). A hold names a case and a reason and holds either a plate (optionally within a window, so
reads of that plate ingested later, a backfill, are held too) or a list of read ids. Released holds stay on
file with who released them, when and why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "active", "add", "add_reads", "all_holds", "get", "held_read_ids", "read_counts", "read_ids_of",
           "release"]

COLUMNS = ("hold_id", "case_number", "reason", "plate", "start_at", "end_at", "source", "created_by",
           "created_at", "released_by", "released_at", "release_reason")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM legal_holds"


def add(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO legal_holds({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
               tuple(row.get(c) for c in COLUMNS))


def add_reads(db: Backend, hold_id: str, read_ids: Iterable[str]) -> None:
    rows = [(hold_id, r) for r in sorted(set(read_ids))]
    if rows:
        db.executemany("INSERT INTO hold_reads(hold_id, read_id) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)


def get(db: Backend, hold_id: str) -> dict[str, Any] | None:
    rows = db.query(_SELECT + " WHERE hold_id = ?", (hold_id,))
    return rows[0] if rows else None


def release(db: Backend, hold_id: str, released_by: str, released_at: str, reason: str) -> int:
    return db.execute("UPDATE legal_holds SET released_by = ?, released_at = ?, release_reason = ? "
                      "WHERE hold_id = ? AND released_at IS NULL", (released_by, released_at, reason, hold_id))


def all_holds(db: Backend) -> list[dict[str, Any]]:
    return db.query(_SELECT + " ORDER BY created_at, hold_id")


def active(db: Backend) -> list[dict[str, Any]]:
    """Holds not released (the ones a purge must respect)."""
    return db.query(_SELECT + " WHERE released_at IS NULL ORDER BY created_at, hold_id")


def held_read_ids(db: Backend) -> dict[str, list[str]]:
    """Read id -> the active holds naming it."""
    rows = db.query("SELECT r.read_id AS read_id, r.hold_id AS hold_id FROM hold_reads r "
                    "JOIN legal_holds h ON h.hold_id = r.hold_id WHERE h.released_at IS NULL "
                    "ORDER BY r.read_id, r.hold_id")
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["read_id"], []).append(row["hold_id"])
    return out


def read_counts(db: Backend) -> dict[str, int]:
    """Hold id -> read ids it names (a plate hold also holds later reads of its plate)."""
    rows = db.query("SELECT hold_id, count(*) AS n FROM hold_reads GROUP BY hold_id")
    return {r["hold_id"]: int(r["n"]) for r in rows}


def read_ids_of(db: Backend, hold_id: str) -> list[str]:
    return [r["read_id"] for r in db.query("SELECT read_id FROM hold_reads WHERE hold_id = ? ORDER BY read_id",
                                           (hold_id,))]
