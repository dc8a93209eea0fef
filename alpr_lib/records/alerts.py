"""The alerts and alert_reads tables: hotlist hits and their verification (policy 462.3(f)).

An alert is one encounter: the first read that matched an entry, and any later reads of the same plate at the
same camera within minutes (``alert_reads``). It carries a copy of the read's plate, place and image reference
so that the alert can be verified without reopening the read; :func:`delete_for_reads` removes those copies
when the reads are purged (policy 462.4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from alpr_lib.records.backend import Backend, Row

__all__ = ["COLUMNS", "add_reads", "delete_for_reads", "extend", "get", "insert", "insert_frame", "known_pairs",
           "open_encounters", "reads_of", "rows", "update"]

COLUMNS = ("alert_id", "read_id", "entry_id", "list_id", "list_name", "source", "plate", "entry_plate",
           "entry_state", "read_state", "state_flag", "category", "priority", "match_kind", "differing", "stale",
           "entry_notes", "camera_id", "captured_at", "last_read_id", "last_captured_at", "reads", "lat", "lon",
           "image_ref", "status", "created_at", "updated_at", "verified_by", "verified_at", "clets_ref",
           "vehicle_matches", "vehicle_description", "rejected_reason", "rejected_by", "rejected_at", "disposition",
           "disposed_by", "disposed_at", "note", "notified")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM alerts"
#: what a verification, rejection or disposition may change
_UPDATABLE = frozenset({"status", "updated_at", "verified_by", "verified_at", "clets_ref", "vehicle_matches",
                        "vehicle_description", "rejected_reason", "rejected_by", "rejected_at", "disposition",
                        "disposed_by", "disposed_at", "note", "notified"})
_CHUNK = 500


def insert(db: Backend, alerts: Sequence[dict[str, Any]]) -> None:
    db.executemany(f"INSERT INTO alerts({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                   [tuple(a.get(c) for c in COLUMNS) for a in alerts])


def insert_frame(db: Backend, alerts: pl.DataFrame) -> None:
    """New alerts as a frame of some of :data:`COLUMNS` (the rest start empty): one statement for the batch."""
    if alerts.height == 0:
        return
    names = [c for c in alerts.columns if c in COLUMNS]
    db.executemany(f"INSERT INTO alerts({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                   list(zip(*(alerts.get_column(c).to_list() for c in names), strict=True)))


def add_reads(db: Backend, rows: Sequence[tuple[str, str, str]]) -> None:
    """(alert_id, read_id, captured_at) rows; a read already listed for the alert is skipped."""
    db.executemany("INSERT INTO alert_reads(alert_id, read_id, captured_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (alert_id, read_id) DO NOTHING", list(rows))


def extend(db: Backend, alert_id: str, read_id: str, captured_at: str, added: int, updated_at: str) -> None:
    """A later read of the same encounter: the alert's last read moves on, its read count grows."""
    db.execute("UPDATE alerts SET last_read_id = CASE WHEN last_captured_at < ? THEN ? ELSE last_read_id END, "
               "last_captured_at = CASE WHEN last_captured_at < ? THEN ? ELSE last_captured_at END, "
               "reads = reads + ?, updated_at = ? WHERE alert_id = ?",
               (captured_at, read_id, captured_at, captured_at, added, updated_at, alert_id))


def open_encounters(db: Backend, plates: Iterable[str], since: str) -> list[Row]:
    """Alerts of these plates whose last read is at or after ``since`` (candidates for one encounter)."""
    wanted = sorted(set(plates))
    out: list[Row] = []
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        out += db.query("SELECT alert_id, entry_id, plate, camera_id, captured_at, last_captured_at FROM alerts "
                        f"WHERE last_captured_at >= ? AND plate IN ({', '.join('?' * len(chunk))})",
                        [since, *chunk])
    return out


def known_pairs(db: Backend, read_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(entry_id, read_id) of these reads that some alert already holds (a re-run raises no second alert)."""
    wanted = sorted(set(read_ids))
    out: set[tuple[str, str]] = set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        out |= {(r["entry_id"], r["read_id"]) for r in db.query(
            "SELECT a.entry_id, r.read_id FROM alert_reads r JOIN alerts a ON a.alert_id = r.alert_id "
            f"WHERE r.read_id IN ({', '.join('?' * len(chunk))})", chunk)}
    return out


def get(db: Backend, alert_id: str) -> Row | None:
    found = db.query(_SELECT + " WHERE alert_id = ?", (alert_id,))
    return found[0] if found else None


def rows(db: Backend, *, status: str | None = None, sources: Iterable[str] | None = None,
         start: str | None = None, end: str | None = None, limit: int | None = None) -> list[Row]:
    """Alerts, most urgent first (priority, then newest), filtered by status, source and capture time."""
    where, params = [], []
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if sources is not None:
        chosen = sorted(set(sources))
        if not chosen:
            return []
        where.append(f"source IN ({', '.join('?' * len(chosen))})")
        params += chosen
    if start is not None:
        where.append("captured_at >= ?")
        params.append(start)
    if end is not None:
        where.append("captured_at < ?")
        params.append(end)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY priority, captured_at DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return db.query(sql, params)


def update(db: Backend, alert_id: str, changes: dict[str, Any], *, expect_status: str | None = None) -> bool:
    """Change an alert's workflow fields; with ``expect_status`` only while it still has that status (two
    operators verifying at once: the second finds it changed). True when the row changed."""
    if not changes or set(changes) - _UPDATABLE:
        raise ValueError(f"alerts.update cannot change {sorted(set(changes) - _UPDATABLE)}")
    names = sorted(changes)
    sql = f"UPDATE alerts SET {', '.join(f'{n} = ?' for n in names)} WHERE alert_id = ?"
    params: list[Any] = [changes[n] for n in names] + [alert_id]
    if expect_status is not None:
        sql += " AND status = ?"
        params.append(expect_status)
    return db.execute(sql, params) > 0


def reads_of(db: Backend, alert_id: str) -> list[Row]:
    return db.query("SELECT read_id, captured_at FROM alert_reads WHERE alert_id = ? ORDER BY captured_at",
                    (alert_id,))


def delete_for_reads(tx: Backend, read_ids: list[str]) -> int:
    """Remove the alerts of these reads, with every copy of read data they hold (plate, place, image
    reference, the list of the encounter's reads): for the purge of old reads (policy 462.4). An alert any
    of whose reads is purged goes as a whole. Returns the number of alerts removed; call inside the purge's
    transaction."""
    wanted = sorted(set(read_ids))
    alert_ids: set[str] = set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        # every read of an alert, its first and last included, is listed in alert_reads (indexed by read)
        alert_ids |= {r["alert_id"] for r in tx.query(f"SELECT alert_id FROM alert_reads WHERE read_id IN ({marks})",
                                                        chunk)}
    doomed = sorted(alert_ids)
    removed = 0
    for i in range(0, len(doomed), _CHUNK):
        chunk = doomed[i:i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        tx.execute(f"DELETE FROM alert_reads WHERE alert_id IN ({marks})", chunk)
        removed += tx.execute(f"DELETE FROM alerts WHERE alert_id IN ({marks})", chunk)
    return removed
